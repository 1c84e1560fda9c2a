{#-
  The assessment periods: every day from the first to the last day present in the vehicle-day
  facts, the record counts, the 查岗 checks (day of sent_at) and the platform link events (day of
  at), and the natural months, quarters and years covering those days.
  period labels: YYYY-MM-DD, YYYY-MM, YYYYQn, YYYY.
-#}
with

facts as (

    select day from {{ ref('stg_telematics__vehicle_day_facts') }}

),

record_counts as (

    select day from {{ ref('stg_telematics__record_counts') }}

),

checks as (

    select to_date(sent_at) as day from {{ ref('stg_telematics__platform_checks') }}

),

links as (

    select to_date(event_at) as day from {{ ref('stg_telematics__platform_links') }}

),

present_days as (

    select day from facts
    union all
    select day from record_counts
    union all
    select day from checks
    union all
    select day from links

),

bounds as (

    select
        min(day) as first_day,
        max(day) as last_day
    from present_days

),

days as (

    select explode(sequence(bounds.first_day, bounds.last_day)) as day
    from bounds
    where bounds.first_day is not null

),

period_types as (

    select period_type from {{ assessment_period_type_rows() }}

),

final as (

    select distinct
        period_types.period_type,
        {{ assessment_period_label('period_types.period_type', 'days.day') }} as period,
        {{ assessment_period_start('period_types.period_type', 'days.day') }} as period_start,
        {{ assessment_period_end('period_types.period_type', 'days.day') }} as period_end
    from days
    cross join period_types

)

select * from final
