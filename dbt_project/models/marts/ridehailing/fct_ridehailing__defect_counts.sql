{#-
  gold.ridehailing__defect_counts: how many records of each company failed each rule, per month
  (the month of the record's event time), interface and dimension — what the dashboard's defect
  charts add up. rule_kind is the rule without its field (missing, length, late, event_order …).
  The company's name and registered division come from its evaluation; a company without a
  division carries the province's code (access.md).
-#}
with

defects as (

    select * from {{ ref('stg_ridehailing__defects') }}
    where period is not null

),

companies as (

    -- one name and division per company (the evaluation gives every period the latest ones)
    select
        company_id,
        max(company_name) as company_name,
        max(region_code) as region_code
    from {{ ref('stg_ridehailing__company_periods') }}
    group by company_id

),

province as (

    select concat(substr(min(region_code), 1, 2), '0000') as province_code
    from {{ ref('stg_ridehailing__company_periods') }}
    where region_code rlike '^[0-9]{6}$'

),

counted as (

    select
        period,
        company_id,
        interface,
        dimension,
        rule,
        count(distinct natural_key) as records
    from defects
    group by period, company_id, interface, dimension, rule

),

final as (

    select
        ---------- ids
        counted.period,
        to_date(concat(counted.period, '-01')) as period_start,
        counted.company_id,
        companies.company_name,
        counted.interface,

        ---------- what failed
        counted.dimension,
        counted.rule,
        -- cast: Sail returns substring_index as a string view, which Arrow results cannot hold
        cast(substring_index(counted.rule, ':', 1) as string) as rule_kind,

        ---------- failed records (distinct natural keys)
        counted.records,

        ---------- what regions filter on
        coalesce(companies.region_code, province.province_code) as region_code
    from counted
    left join companies
        on counted.company_id = companies.company_id
    cross join province

)

select * from final
