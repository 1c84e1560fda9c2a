{#-
  The data-quality evaluation per platform company and period (gold.ridehailing__company_periods,
  written by the evaluation Spark job, 数据质量考核): both grains, month (period YYYY-MM) and year
  (YYYY).
-#}
with

source as (

    select * from {{ source('ridehailing_gold', 'ridehailing__company_periods') }}

),

renamed as (

    select

        ---------- ids
        company_id,
        company_name,
        grain,
        period,

        ---------- records with their event time in the period (distinct natural keys)
        transmitted,
        records,

        ---------- the four dimensions (null when nothing was transmitted)
        completeness_rate,  -- 完整性
        normativity_rate,   -- 规范性
        timeliness_rate,    -- 及时性
        truthfulness_rate,  -- 真实性

        ---------- 城市覆盖率 and 综合得分
        city_coverage_rate,
        score,

        ---------- the company's registered division (GB/T 2260), what regions filter on
        region_code

    from source

)

select * from renamed
