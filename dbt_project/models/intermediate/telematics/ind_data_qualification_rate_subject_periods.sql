{#-
  data_qualification_rate -- 数据合格率: qualified records / records received in the period
  (silver.telematics__record_counts, every record once, the copy received last wins).
  county / enterprise: the records of the vehicles attributed to the subject in the period
  (unknown vehicles excluded); platform: the records the platform sent (record's platform_id,
  unknown vehicles included).
-#}
with

subject_periods as (

    select level, subject_id, period_type, period
    from {{ ref('int_subject_periods_enumerated') }}

),

vehicle_periods as (

    select * from {{ ref('int_vehicle_periods_attributed') }}

),

record_counts as (

    select * from {{ ref('stg_telematics__record_counts') }}

),

period_types as (

    select period_type from {{ assessment_period_type_rows() }}

),

period_records as (

    select
        period_types.period_type,
        {{ assessment_period_label('period_types.period_type', 'record_counts.day') }} as period,
        record_counts.platform_id,
        record_counts.plate,
        record_counts.plate_color,
        record_counts.records,
        record_counts.qualified_records
    from record_counts
    cross join period_types

),

-- by the sending vehicle's attribution (inner join: unknown vehicles drop out)
vehicle_records as (

    select
        vehicle_periods.level,
        vehicle_periods.subject_id,
        period_records.period_type,
        period_records.period,
        sum(period_records.qualified_records) as numerator,
        sum(period_records.records) as denominator
    from period_records
    inner join vehicle_periods
        on period_records.period_type = vehicle_periods.period_type
        and period_records.period = vehicle_periods.period
        and period_records.plate = vehicle_periods.plate
        and period_records.plate_color = vehicle_periods.plate_color
    where vehicle_periods.level in ('county', 'enterprise')
    group by 1, 2, 3, 4

),

-- by the sending platform, known or unknown vehicle
platform_records as (

    select
        'platform' as level,
        platform_id as subject_id,
        period_type,
        period,
        sum(qualified_records) as numerator,
        sum(records) as denominator
    from period_records
    where platform_id is not null
    group by 1, 2, 3, 4

),

measured as (

    select * from vehicle_records
    union all
    select * from platform_records

),

{{ assessment_indicator_final('data_qualification_rate') }}
