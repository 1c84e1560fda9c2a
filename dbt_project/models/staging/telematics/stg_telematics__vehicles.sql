with

source as (

    select * from {{ source('silver', 'telematics__vehicles') }}

),

renamed as (

    select

        ---------- ids
        plate,
        plate_color,
        enterprise_id,
        county_code,
        platform_id,
        route_id,
        region_id,

        ---------- properties
        vehicle_type,
        operating_status,
        speed_limit_kmh,
        route_exempt,

        ---------- dates
        registered_at,
        valid_from

    from source
    -- current version of each vehicle only (SCD2 history lives in silver)
    where is_current

)

select * from renamed
