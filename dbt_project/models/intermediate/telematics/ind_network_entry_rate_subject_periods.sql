{#-
  network_entry_rate -- 车辆入网率: key vehicles that have ever sent a qualified record up to the period end / key vehicles registered by then (`vehicles`).
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
        count_if(is_entered) as numerator,
        count_if(is_counted) as denominator
    from vehicle_periods
    group by level, subject_id, period_type, period

),

{{ assessment_indicator_final('network_entry_rate') }}
