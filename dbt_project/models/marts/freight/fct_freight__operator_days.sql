{#-
  gold.freight__operator_days: what every operator carried each day (运单, 货运量, 周转量, 运费)
  with its envelopes, anomalies and the day's score — the daily rows of the 运行监测 job, the day
  typed as a date and its month as `period` (the dashboard's month filter).
-#}
{%- set types = freight_anomaly_types() %}
with

stats as (

    select * from {{ ref('stg_freight__operator_stats') }}
    -- a row without a day (an envelope whose sending time did not parse) is on no day
    where grain = 'day' and period is not null

),

final as (

    select
        ---------- ids
        cast(period as date) as day,
        substr(period, 1, 7) as period,
        operator_id,
        operator_name,

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

        ---------- anomalies of the day (every type) and the day's score
        {% for t in types -%}
        anomalies_{{ t }}{{ ' + ' if not loop.last }}
        {%- endfor %} as anomalies,
        score,
        score_rank
    from stats

)

select * from final
