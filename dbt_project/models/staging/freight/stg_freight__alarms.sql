{#- Operator-days over the anomaly-rate threshold (预警, gold.freight__alarms) with their status. -#}
with

source as (

    select * from {{ source('freight_gold', 'freight__alarms') }}

),

renamed as (

    select

        ---------- ids
        operator_id,
        operator_name,
        cast(day as date) as day,

        ---------- the day's numbers and the threshold they exceed
        waybills,
        anomalies,
        anomaly_rate,
        threshold,

        ---------- tracked to closure: the operator's rectification result (整改结果)
        status,
        closed_at,
        result

    from source

)

select * from renamed
