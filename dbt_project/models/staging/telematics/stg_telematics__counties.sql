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

)

select * from renamed
