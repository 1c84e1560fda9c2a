{#-
  gold.freight__alarm_days: the alarms (预警: an operator-day whose anomalies / waybills exceed
  rules.freight.alarm.max_anomaly_rate, computed by the 运行监测 job) with their month as `period`
  and their status (open until the operator's rectification result is recorded: closed, when,
  the result).
-#}
with

alarms as (

    select * from {{ ref('stg_freight__alarms') }}

),

final as (

    select
        ---------- ids
        day,
        date_format(day, 'yyyy-MM') as period,
        operator_id,
        operator_name,

        ---------- the day's numbers and the threshold they exceed
        waybills,
        anomalies,
        anomaly_rate,
        threshold,

        ---------- tracked to closure: the operator's rectification result (整改结果)
        status,
        closed_at,
        result
    from alarms
    where day is not null

)

select * from final
