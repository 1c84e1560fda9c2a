{#-
  platform_connectivity_rate -- 平台连通率 (platforms only): connected minutes / (period minutes
  - excused down minutes). The state at the period start is the platform's last link event
  before it (none: down); down intervals whose reason is in rules.connectivity.excused_reasons
  leave the denominator; every other down minute counts as disconnected. Intervals are clipped
  to [period_start 00:00, period_end + 1 day 00:00); minutes = seconds / 60.
  numerator = connected minutes, denominator = counted minutes.
-#}
{%- set excused = assessment_rules().connectivity.excused_reasons %}
with

subject_periods as (

    select
        level,
        subject_id,
        period_type,
        period,
        cast(period_start as timestamp) as period_start_at,
        cast(date_add(period_end, 1) as timestamp) as period_end_at
    from {{ ref('int_subject_periods_enumerated') }}

),

intervals as (

    select * from {{ ref('int_platform_link_intervals') }}

),

clipped as (

    select
        subject_periods.level,
        subject_periods.subject_id,
        subject_periods.period_type,
        subject_periods.period,
        intervals.state,
        intervals.reason,
        -- whole seconds (timestamps are second-resolution): sums stay exact, so a period whose
        -- only downtime is excused gets exactly 1, not 1 + ε
        unix_timestamp(least(coalesce(intervals.end_at, subject_periods.period_end_at), subject_periods.period_end_at))
        - unix_timestamp(greatest(coalesce(intervals.start_at, subject_periods.period_start_at), subject_periods.period_start_at))
            as seconds
    from subject_periods
    inner join intervals
        on subject_periods.subject_id = intervals.platform_id
        and coalesce(intervals.start_at, subject_periods.period_start_at) < subject_periods.period_end_at
        and coalesce(intervals.end_at, subject_periods.period_end_at) > subject_periods.period_start_at
    where subject_periods.level = 'platform'

),

measured as (

    select
        level,
        subject_id,
        period_type,
        period,
        sum(case when state = 'up' then seconds else 0 end) as connected_seconds,
        sum(
            case
                when state = 'down' and reason in ('{{ excused | join("', '") }}') then seconds
                else 0
            end
        ) as excused_seconds
    from clipped
    group by level, subject_id, period_type, period

),

final as (

    select
        subject_periods.level,
        subject_periods.subject_id,
        subject_periods.period_type,
        subject_periods.period,
        case
            when {{ assessment_applies('platform_connectivity_rate', 'subject_periods.level') }}
                then cast(coalesce(measured.connected_seconds, 0) as double) / 60
        end as numerator,
        case
            when {{ assessment_applies('platform_connectivity_rate', 'subject_periods.level') }}
                then cast(
                    unix_timestamp(subject_periods.period_end_at)
                    - unix_timestamp(subject_periods.period_start_at)
                    - coalesce(measured.excused_seconds, 0) as double
                ) / 60
        end as denominator
    from subject_periods
    left join measured
        on subject_periods.level = measured.level
        and subject_periods.subject_id = measured.subject_id
        and subject_periods.period_type = measured.period_type
        and subject_periods.period = measured.period

)

select
    *,
    {{ assessment_ratio('numerator', 'denominator') }} as value
from final
