{#-
  One row per (day, plate, plate_color) of a known vehicle with at least one record that day.
  points: distinct (plate, plate_color, gnss_time) over qualified and quarantined records;
  km: haversine sum between consecutive qualified points of the day (a segment never spans midnight).
-#}
with

vehicles as (

    select * from {{ ref('stg_telematics__vehicles') }}

),

qualified as (

    select
        plate,
        plate_color,
        gnss_time,
        to_date(gnss_time) as day,
        lat,
        lon
    from {{ ref('stg_telematics__positions') }}

),

quarantined as (

    select
        plate,
        plate_color,
        gnss_time,
        to_date(gnss_time) as day
    from {{ ref('stg_telematics__quarantined_positions') }}
    where plate is not null
        and plate_color is not null
        and gnss_time is not null

),

records as (

    select plate, plate_color, gnss_time, day from qualified
    union all
    select plate, plate_color, gnss_time, day from quarantined

),

record_counts as (

    select
        day,
        plate,
        plate_color,
        count(distinct gnss_time) as points
    from records
    group by day, plate, plate_color

),

segments as (

    select
        day,
        plate,
        plate_color,
        gnss_time,
        lat,
        lon,
        lag(lat) over (
            partition by plate, plate_color, day order by gnss_time
        ) as prev_lat,
        lag(lon) over (
            partition by plate, plate_color, day order by gnss_time
        ) as prev_lon
    from qualified

),

tracks as (

    select
        day,
        plate,
        plate_color,
        count(*) as qualified_points,
        coalesce(sum(
            case when prev_lat is not null
                then {{ haversine_km('prev_lat', 'prev_lon', 'lat', 'lon') }}
            end
        ), 0) as km,
        min(gnss_time) as first_point_at,
        max(gnss_time) as last_point_at
    from segments
    group by day, plate, plate_color

),

final as (

    select
        record_counts.day,
        record_counts.plate,
        record_counts.plate_color,
        vehicles.county_code,
        vehicles.enterprise_id,
        vehicles.platform_id,
        record_counts.points,
        coalesce(tracks.qualified_points, 0) as qualified_points,
        cast(round(coalesce(tracks.km, 0), {{ var('km_decimals') }}) as double) as km,
        tracks.first_point_at,
        tracks.last_point_at
    from record_counts
    inner join vehicles
        on record_counts.plate = vehicles.plate
        and record_counts.plate_color = vehicles.plate_color
    left join tracks
        on record_counts.day = tracks.day
        and record_counts.plate = tracks.plate
        and record_counts.plate_color = tracks.plate_color

)

select * from final
