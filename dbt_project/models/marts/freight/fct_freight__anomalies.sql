{#-
  gold.freight__anomalies: every anomaly row with its operator's name (the senders feed's, as the
  statistics carry it; null for a sender that is not registered), its day and month (of
  event_time: the period the statistics count it in) and whether the statistics count it
  (is_counted: not withdrawn after an appeal).
-#}
with

anomalies as (

    select * from {{ ref('stg_freight__anomalies') }}

),

operators as (

    select
        operator_id,
        max(operator_name) as operator_name
    from {{ ref('stg_freight__operator_stats') }}
    group by operator_id

),

final as (

    select
        ---------- ids
        anomalies.anomaly_id,
        anomalies.operator_id,
        operators.operator_name,

        ---------- the anomaly
        anomalies.anomaly_type,
        anomalies.document_kind,
        anomalies.document_key,
        anomalies.rule,

        ---------- when: the period it counts in, the first detection
        anomalies.event_time,
        to_date(anomalies.event_time) as day,
        date_format(anomalies.event_time, 'yyyy-MM') as period,
        anomalies.detected_at,

        ---------- status (申诉) and whether the statistics count it
        anomalies.status,
        anomalies.status != 'withdrawn' as is_counted
    from anomalies
    left join operators
        on anomalies.operator_id = operators.operator_id

)

select * from final
