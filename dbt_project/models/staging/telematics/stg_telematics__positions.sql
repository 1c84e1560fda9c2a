with

source as (

    select * from {{ source('silver', 'telematics__positions') }}

),

renamed as (

    select

        ---------- ids
        plate,
        plate_color,
        platform_id,

        ---------- timestamps (GMT+8 wall-clock)
        gnss_time,
        received_at,
        day,

        ---------- position and motion
        lon,
        lat,
        speed,
        recorder_speed,
        mileage_km,
        direction,
        altitude,

        ---------- terminal bits
        state,
        alarm,

        ---------- flags
        is_late

    from source

)

select * from renamed
