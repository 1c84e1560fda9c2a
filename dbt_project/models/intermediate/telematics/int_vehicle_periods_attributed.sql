{#-
  Every key vehicle in every period, attributed to its county, enterprise and platform by the
  master-data version valid on the period's last day (rules.attribution.vehicle_version =
  period_end; the first known version also stands for the time before it was landed), one row per
  (level, subject_id, period, vehicle), with the vehicle's part in every indicator:

  - is_counted: registered_at <= period_end (or unknown), whatever the status -- `vehicles`
  - is_entered: counted and its first qualified record is on or before period_end -- 入网
  - is_operating_entered: entered and operating_status = 'operating' (on period_end)
  - is_online: operating, entered and >= 1 qualified point in the period -- 上线
  - km, drift, overspeed and fatigue sums of the vehicle's days in the period (the indicator
    models keep those of online vehicles), has_violation on any day of the period.
-#}
with

periods as (

    select * from {{ ref('int_periods_enumerated') }}

),

vehicle_versions as (

    select
        *,
        min(valid_from) over (partition by plate, plate_color) as first_valid_from
    from {{ ref('stg_telematics__vehicle_versions') }}

),

facts as (

    select * from {{ ref('stg_telematics__vehicle_day_facts') }}

),

period_types as (

    select period_type from {{ assessment_period_type_rows() }}

),

-- the version valid on the period's last day
attributed as (

    select
        periods.period_type,
        periods.period,
        periods.period_end,
        vehicle_versions.plate,
        vehicle_versions.plate_color,
        vehicle_versions.county_code,
        vehicle_versions.enterprise_id,
        vehicle_versions.platform_id,
        vehicle_versions.operating_status,
        vehicle_versions.registered_at
    from periods
    inner join vehicle_versions
        on (
            vehicle_versions.valid_from <= periods.period_end
            or vehicle_versions.valid_from = vehicle_versions.first_valid_from
        )
        and (vehicle_versions.valid_to is null or vehicle_versions.valid_to > periods.period_end)

),

-- 入网: the first day with a qualified record, ever
first_qualified as (

    select
        plate,
        plate_color,
        min(day) as first_qualified_day
    from facts
    where qualified_points > 0
    group by plate, plate_color

),

period_facts as (

    select
        period_types.period_type,
        {{ assessment_period_label('period_types.period_type', 'facts.day') }} as period,
        facts.plate,
        facts.plate_color,
        count_if(facts.qualified_points > 0) as qualified_days,
        sum(facts.complete_km) as complete_km,
        sum(facts.total_km) as total_km,
        count_if(facts.is_drift_day) as drift_days,
        sum(facts.overspeed_events) as overspeed_events,
        sum(facts.fatigue_minutes) as fatigue_minutes,
        count_if(facts.has_violation) as violation_days
    from facts
    cross join period_types
    group by 1, 2, 3, 4

),

vehicle_periods as (

    select
        attributed.period_type,
        attributed.period,
        attributed.plate,
        attributed.plate_color,
        attributed.county_code,
        attributed.enterprise_id,
        attributed.platform_id,
        coalesce(attributed.registered_at <= attributed.period_end, true) as is_counted,
        coalesce(first_qualified.first_qualified_day <= attributed.period_end, false) as has_entered,
        coalesce(attributed.operating_status = 'operating', false) as is_operating,
        coalesce(period_facts.qualified_days, 0) > 0 as has_qualified_point,
        coalesce(period_facts.complete_km, 0) as complete_km,
        coalesce(period_facts.total_km, 0) as total_km,
        coalesce(period_facts.drift_days, 0) > 0 as is_drift_vehicle,
        coalesce(period_facts.overspeed_events, 0) as overspeed_events,
        coalesce(period_facts.fatigue_minutes, 0) as fatigue_minutes,
        coalesce(period_facts.violation_days, 0) > 0 as has_violation
    from attributed
    left join first_qualified
        on attributed.plate = first_qualified.plate
        and attributed.plate_color = first_qualified.plate_color
    left join period_facts
        on attributed.period_type = period_facts.period_type
        and attributed.period = period_facts.period
        and attributed.plate = period_facts.plate
        and attributed.plate_color = period_facts.plate_color

),

flagged as (

    select
        period_type,
        period,
        plate,
        plate_color,
        county_code,
        enterprise_id,
        platform_id,
        is_counted,
        is_counted and has_entered as is_entered,
        is_counted and has_entered and is_operating as is_operating_entered,
        is_counted and has_entered and is_operating and has_qualified_point as is_online,
        complete_km,
        total_km,
        is_drift_vehicle,
        overspeed_events,
        fatigue_minutes,
        has_violation
    from vehicle_periods

),

final as (

    {%- for level, column in [('county', 'county_code'), ('enterprise', 'enterprise_id'), ('platform', 'platform_id')] %}
    {% if not loop.first %}union all{% endif %}
    select
        '{{ level }}' as level,
        {{ column }} as subject_id,
        period_type,
        period,
        plate,
        plate_color,
        is_counted,
        is_entered,
        is_operating_entered,
        is_online,
        complete_km,
        total_km,
        is_drift_vehicle,
        overspeed_events,
        fatigue_minutes,
        has_violation
    from flagged
    where {{ column }} is not null
    {%- endfor %}

)

select * from final
