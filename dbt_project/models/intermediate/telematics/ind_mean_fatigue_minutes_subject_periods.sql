{#-
  mean_fatigue_minutes -- 平均疲劳驾驶时长: Σ fatigue minutes of the online vehicles / online vehicles.
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
        sum(case when is_online then fatigue_minutes else 0 end) as numerator,
        count_if(is_online) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('mean_fatigue_minutes') }}
