{#-
  online_rate -- 车辆上线率: vehicles with >= 1 qualified point in the period / operating, 入网 vehicles.
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
        count_if(is_online) as numerator,
        count_if(is_operating_entered) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('online_rate') }}
