{#- Every version of every key vehicle (SCD2, valid [valid_from, valid_to)); the assessment
    attributes a vehicle by the version valid on the period's last day. -#}
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

        ---------- validity of this version
        valid_from,
        valid_to,
        is_current

    from source

)

select * from renamed
