{#-
  Statistics, score and rank per operator and period (gold.freight__operator_stats, written by the
  运行监测 Spark job), both grains: month (period YYYY-MM) and day (YYYY-MM-DD).
-#}
{%- set types = freight_anomaly_types() %}
with

source as (

    select * from {{ source('freight_gold', 'freight__operator_stats') }}

),

renamed as (

    select

        ---------- ids
        operator_id,
        operator_name,
        grain,
        period,

        ---------- envelopes (messageSendingDateTime in the period)
        envelopes,
        accepted,
        rejected,

        ---------- transport (waybills despatched in the period)
        waybills,
        vehicles,
        drivers,
        tonnes,
        tonne_km,
        charges_yuan,
        unknown_distance,

        ---------- anomalies (event_time in the period, withdrawn excluded) and rates
        {%- for t in types %}
        anomalies_{{ t }},
        {%- endfor %}
        {%- for t in types %}
        rate_{{ t }},
        {%- endfor %}

        ---------- 综合评分 and its rank in the period
        score,
        rank as score_rank

    from source

)

select * from renamed
