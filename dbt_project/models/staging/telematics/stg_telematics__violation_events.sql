with

source as (

    select * from {{ source('silver', 'telematics__violation_events') }}

),

renamed as (

    select

        ---------- ids
        event_id,
        plate,
        plate_color,
        kind,

        ---------- timestamps (GMT+8 wall-clock)
        day,
        start_at,
        end_at,

        ---------- measures
        points,
        max_speed,
        limit_kmh,
        minutes,

        ---------- where it started
        lon,
        lat,

        ---------- details (JSON)
        detail

    from source

)

select * from renamed
