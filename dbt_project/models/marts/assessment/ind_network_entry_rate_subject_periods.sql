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

final as (

    select
        subject_periods.level,
        subject_periods.subject_id,
        subject_periods.period_type,
        subject_periods.period,
        case
            when {{ assessment_applies('network_entry_rate', 'subject_periods.level') }}
                then coalesce(measured.numerator, 0)
        end as numerator,
        case
            when {{ assessment_applies('network_entry_rate', 'subject_periods.level') }}
                then coalesce(measured.denominator, 0)
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
