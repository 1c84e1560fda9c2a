{#-
  gold.telematics__violations (docs/tables.md): every violation event (违法违规事件) with its
  month and the vehicle's CURRENT attribution: vehicle type, county (named by the county's current
  version), enterprise and platform of the vehicle's current master-data version, or of its latest
  version when it has no current one. An event of a plate that is no registered vehicle keeps a
  null county_code and the county name 未登记车辆.
-#}
with

events as (

    select * from {{ ref('stg_telematics__violation_events') }}

),

vehicle_versions as (

    select * from {{ ref('stg_telematics__vehicle_versions') }}

),

counties as (

    select * from {{ ref('stg_telematics__counties') }}

),

ranked_versions as (

    select
        plate,
        plate_color,
        vehicle_type,
        county_code,
        enterprise_id,
        platform_id,
        row_number() over (
            partition by plate, plate_color
            order by is_current desc nulls last, valid_from desc nulls last
        ) as recency
    from vehicle_versions

),

vehicles as (

    select * from ranked_versions where recency = 1

),

final as (

    select
        ---------- the event
        events.event_id,
        events.day,
        date_format(events.day, 'yyyy-MM') as period,
        events.kind,
        events.plate,
        events.plate_color,

        ---------- the vehicle's current attribution
        vehicles.vehicle_type,
        vehicles.county_code,
        coalesce(counties.county_name, vehicles.county_code, '未登记车辆') as county_name,
        vehicles.enterprise_id,
        vehicles.platform_id,

        ---------- measures and evidence
        events.start_at,
        events.end_at,
        events.points,
        events.max_speed,
        events.limit_kmh,
        events.minutes,
        events.lon,
        events.lat,
        events.detail
    from events
    left join vehicles
        on events.plate = vehicles.plate
        and events.plate_color = vehicles.plate_color
    left join counties
        on vehicles.county_code = counties.county_code

)

select * from final
