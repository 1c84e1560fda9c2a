with

source as (

    select * from {{ source('quarantine', 'telematics__positions') }}

),

renamed as (

    select

        ---------- ids (null when the record could not be parsed)
        plate,
        plate_color,
        platform_id,

        ---------- timestamps (GMT+8 wall-clock)
        gnss_time,
        received_at,
        day,
        _quarantined_at as quarantined_at,

        ---------- why it was quarantined
        failed_rules,
        raw_record

    from source

)

select * from renamed
