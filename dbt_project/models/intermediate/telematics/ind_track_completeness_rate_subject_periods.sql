{#-
  track_completeness_rate -- 轨迹完整率: Σ complete km / Σ total km of the online vehicles' days in the period.
  One row per subject and period; null for the levels that do not report it and when the
  denominator is 0.
-#}
with

subject_periods as (

    select level, subject_id, period_type, period
    from {{ ref('int_subject_periods_enumerated') }}

),

vehicle_periods as (

    select * from {{ ref('int_vehicle_periods_attributed') }}

),

measured as (

    select
        level,
        subject_id,
        period_type,
        period,
        sum(case when is_online then complete_km else 0 end) as numerator,
        sum(case when is_online then total_km else 0 end) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('track_completeness_rate') }}
