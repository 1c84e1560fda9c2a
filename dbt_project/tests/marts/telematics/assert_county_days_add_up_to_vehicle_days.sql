-- Every day, the counties' points, qualified points and online vehicles add up to the vehicle days
-- (each vehicle day belongs to exactly one county present in the county spine).

{{ config(meta={'dagster': {'ref': {'name': 'fct_telematics__county_days'}}}) }}

with

vehicle_totals as (

    select
        day,
        sum(points) as points,
        sum(qualified_points) as qualified_points,
        count_if(qualified_points > 0) as online_vehicles
    from {{ ref('fct_telematics__vehicle_days') }}
    group by day

),

county_totals as (

    select
        day,
        sum(points) as points,
        sum(qualified_points) as qualified_points,
        sum(online_vehicles) as online_vehicles
    from {{ ref('fct_telematics__county_days') }}
    group by day

)

select
    vehicle_totals.day,
    vehicle_totals.points as vehicle_points,
    county_totals.points as county_points
from vehicle_totals
full outer join county_totals
    on vehicle_totals.day = county_totals.day
where vehicle_totals.day is null
    or county_totals.day is null
    or vehicle_totals.points != county_totals.points
    or vehicle_totals.qualified_points != county_totals.qualified_points
    or vehicle_totals.online_vehicles != county_totals.online_vehicles
