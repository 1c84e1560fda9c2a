{#-
  The industry's monthly operating overview (行业运行概况, gold.ridehailing__overview, written by
  the evaluation Spark job): every month from the first to the last with records.
-#}
with

source as (

    select * from {{ source('ridehailing_gold', 'ridehailing__overview') }}

),

renamed as (

    select

        ---------- ids
        period,

        ---------- in force at the month's end (licences), received in the month (orders)
        platform_companies,  -- 网约车平台公司
        driver_licences,     -- 驾驶员
        vehicle_licences,    -- 车辆
        orders,              -- 订单量

        ---------- month-on-month change as a fraction (环比; null without a previous month)
        driver_licences_mom,
        vehicle_licences_mom,
        orders_mom

    from source

)

select * from renamed
