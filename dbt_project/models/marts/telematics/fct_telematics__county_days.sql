{#-
  One row per (day, county) for every county and every day present in vehicle_days: a county
  without any vehicle activity that day still appears, with zeros and a null qualified_rate.
-#}
with

vehicle_days as (

    select * from {{ ref('fct_telematics__vehicle_days') }}

),

counties as (

    select * from {{ ref('stg_telematics__counties') }}

),

vehicles as (

    select * from {{ ref('stg_telematics__vehicles') }}

),

days as (

    select distinct day from vehicle_days

),

county_day_spine as (

    select
        days.day,
        counties.county_code,
        counties.county_name
    from days
    cross join counties

),

-- key vehicles of the county registered by that day (denominator of 入网率)
registered as (

    select
        county_day_spine.day,
        county_day_spine.county_code,
        count(vehicles.plate) as vehicles
    from county_day_spine
    left join vehicles
        on county_day_spine.county_code = vehicles.county_code
        and vehicles.registered_at <= county_day_spine.day
    group by county_day_spine.day, county_day_spine.county_code

),

activity as (

    select
        day,
        county_code,
        -- 上线车辆: at least one qualified point that day
        count_if(qualified_points > 0) as online_vehicles,
        sum(points) as points,
        sum(qualified_points) as qualified_points,
        sum(km) as km
    from vehicle_days
    group by day, county_code

),

final as (

    select
        county_day_spine.day,
        county_day_spine.county_code,
        county_day_spine.county_name,
        registered.vehicles,
        coalesce(activity.online_vehicles, 0) as online_vehicles,
        coalesce(activity.points, 0) as points,
        coalesce(activity.qualified_points, 0) as qualified_points,
        -- 数据合格率: null when nothing was received
        case
            when activity.points > 0
                then cast(activity.qualified_points as double) / activity.points
        end as qualified_rate,
        cast(round(coalesce(activity.km, 0), {{ var('km_decimals') }}) as double) as km
    from county_day_spine
    left join registered
        on county_day_spine.day = registered.day
        and county_day_spine.county_code = registered.county_code
    left join activity
        on county_day_spine.day = activity.day
        and county_day_spine.county_code = activity.county_code

)

select * from final
