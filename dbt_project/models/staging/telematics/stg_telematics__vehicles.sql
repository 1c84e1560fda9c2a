{#- The current version of each key vehicle (its history: stg_telematics__vehicle_versions). -#}
select
    plate,
    plate_color,
    enterprise_id,
    county_code,
    platform_id,
    route_id,
    region_id,
    vehicle_type,
    operating_status,
    speed_limit_kmh,
    route_exempt,
    registered_at,
    valid_from
from {{ ref('stg_telematics__vehicle_versions') }}
where is_current
