with

source as (

    select * from {{ source('silver', 'telematics__counties') }}

),

renamed as (

    select

        ---------- ids
        county_code,
        city_code,
        province_code,

        ---------- text
        name as county_name

    from source
    -- the current version of each county (its history lives in silver)
    where is_current

)

select * from renamed
