{#-
  gold.ridehailing__company_months: the monthly data-quality evaluation of every platform company
  (数据质量考核, ridehailing.md "Rates per company and period") as the evaluation job computed it,
  with the month's ranking and bounds:

  - score_rank: 1 = the highest score of the month among the companies that transmitted; equal
    scores share a rank; a company that transmitted nothing in the month is listed (score 0, its
    four rates null) but not ranked (null);
  - complete_on (the first day of the next month) tells the dashboard which months are complete
    on the day someone looks (its serving view's is_complete flag);
  - region_code: the company's registered division; a company without a baseInfoCompany record
    (no division) carries the province's code (access.md), seen by province regulators only.

  One row per company and month: also the dashboard's monthly score trend.
-#}
with

months as (

    select * from {{ ref('stg_ridehailing__company_periods') }}
    where grain = 'month' and period is not null

),

province as (

    -- the province of the companies' registered divisions (GB/T 2260: 2 digits + 0000)
    select concat(substr(min(region_code), 1, 2), '0000') as province_code
    from {{ ref('stg_ridehailing__company_periods') }}
    where region_code rlike '^[0-9]{6}$'

),

ranked as (

    select
        company_id,
        period,
        rank() over (partition by period order by score desc) as score_rank
    from months
    where transmitted

),

final as (

    select
        ---------- ids
        months.company_id,
        months.company_name,
        months.period,
        to_date(concat(months.period, '-01')) as period_start,
        add_months(to_date(concat(months.period, '-01')), 1) as complete_on,

        ---------- records of the month
        months.transmitted,
        months.records,

        ---------- the four dimensions, 城市覆盖率, 综合得分 and the month's ranking
        months.completeness_rate,
        months.normativity_rate,
        months.timeliness_rate,
        months.truthfulness_rate,
        months.city_coverage_rate,
        months.score,
        ranked.score_rank,

        ---------- what regions filter on
        coalesce(months.region_code, province.province_code) as region_code
    from months
    left join ranked
        on
            months.company_id = ranked.company_id
            and months.period = ranked.period
    cross join province

)

select * from final
