{#-
  violation_rate -- 车辆违法违规率: vehicles with a violation on any day of the period / `vehicles`.
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
        count_if(is_counted and has_violation) as numerator,
        count_if(is_counted) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('violation_rate') }}
