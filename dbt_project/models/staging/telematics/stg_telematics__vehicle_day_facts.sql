with

source as (

    select * from {{ source('silver', 'telematics__vehicle_day_facts') }}

),

renamed as (

    select

        ---------- ids
        day,
        plate,
        plate_color,
        vehicle_type,

        ---------- track (轨迹)
        qualified_points,
        total_km,
        broken_km,
        complete_km,
        drift_jumps,
        is_drift_day,

        ---------- driving behaviour
        overspeed_events,
        driving_minutes,
        fatigue_minutes,

        ---------- violations (违法违规)
        bus_night_running,
        off_route,
        out_of_region,
        daily_driving_over,
        has_violation

    from source

)

select * from renamed
