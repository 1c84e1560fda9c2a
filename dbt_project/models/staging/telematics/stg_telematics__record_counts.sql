with

source as (

    select * from {{ source('silver', 'telematics__record_counts') }}

),

renamed as (

    select

        ---------- ids (null when the record could not be parsed)
        day,
        platform_id,
        plate,
        plate_color,

        ---------- counts
        records,
        qualified_records

    from source

)

select * from renamed
