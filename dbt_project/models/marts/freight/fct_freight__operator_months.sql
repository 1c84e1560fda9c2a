{#-
  gold.freight__operator_months: the monthly statistics, 综合评分 and ranking of every operator
  (运行监测, freight.md "Statistics per operator") as the 运行监测 job computed them, with the total
  of the six anomaly counts and the month's bounds: complete_on (the first day of the next month)
  tells the dashboard which months are complete on the day someone looks (its serving view's
  is_complete flag).
-#}
{%- set types = freight_anomaly_types() %}
with

stats as (

    select * from {{ ref('stg_freight__operator_stats') }}
    -- a row without a month (an envelope whose sending time did not parse) is in no ranking
    where grain = 'month' and period is not null

),

final as (

    select
        ---------- ids
        operator_id,
        operator_name,
        period,
        to_date(concat(period, '-01')) as period_start,
        add_months(to_date(concat(period, '-01')), 1) as complete_on,

        ---------- envelopes and transport
        envelopes,
        accepted,
        rejected,
        waybills,
        vehicles,
        drivers,
        tonnes,
        tonne_km,
        charges_yuan,
        unknown_distance,

        ---------- anomalies: per type and in all
        {%- for t in types %}
        anomalies_{{ t }},
        {%- endfor %}
        {% for t in types -%}
        anomalies_{{ t }}{{ ' + ' if not loop.last }}
        {%- endfor %} as anomalies,
        {%- for t in types %}
        rate_{{ t }},
        {%- endfor %}

        ---------- 综合评分 and the month's ranking
        score,
        score_rank
    from stats

)

select * from final
