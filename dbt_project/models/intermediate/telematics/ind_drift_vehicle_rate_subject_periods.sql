{#-
  drift_vehicle_rate -- 卫星定位漂移车辆率: online vehicles with >= 1 drift day in the period / online vehicles.
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
        count_if(is_online and is_drift_vehicle) as numerator,
        count_if(is_online) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('drift_vehicle_rate') }}
