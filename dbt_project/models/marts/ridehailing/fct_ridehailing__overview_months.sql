{#-
  gold.ridehailing__overview_months: the industry's monthly operating overview (行业运行概况, seed
  004) as the evaluation job computed it — platform companies, driver and vehicle licences in force
  at the month's end, orders of the month, their month-on-month change (环比) — with the month's
  bounds (complete_on, as in gold.ridehailing__company_months) and the change of the platform
  companies too, computed the same way: (this month − the previous month) / the previous month,
  null without a previous month or when it had none.

  A province-wide total: region_code is the province of the companies' registered divisions
  (access.md: seen by province regulators only).
-#}
with

overview as (

    select * from {{ ref('stg_ridehailing__overview_months') }}
    where period is not null

),

province as (

    select concat(substr(min(region_code), 1, 2), '0000') as province_code
    from {{ ref('stg_ridehailing__company_periods') }}
    where region_code rlike '^[0-9]{6}$'

),

dated as (

    select
        *,
        to_date(concat(period, '-01')) as period_start
    from overview

),

previous as (

    select
        add_months(period_start, 1) as period_start,
        platform_companies as previous_platform_companies
    from dated

),

final as (

    select
        ---------- ids
        dated.period,
        dated.period_start,
        add_months(dated.period_start, 1) as complete_on,

        ---------- the month's numbers
        dated.platform_companies,
        dated.driver_licences,
        dated.vehicle_licences,
        dated.orders,

        ---------- 环比 (a fraction)
        (dated.platform_companies - previous.previous_platform_companies)
        / cast(nullif(previous.previous_platform_companies, 0) as double)
            as platform_companies_mom,
        dated.driver_licences_mom,
        dated.vehicle_licences_mom,
        dated.orders_mom,

        ---------- what regions filter on
        province.province_code as region_code
    from dated
    left join previous
        on dated.period_start = previous.period_start
    cross join province

)

select * from final
