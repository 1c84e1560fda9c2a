{#-
  The freight anomaly rows (silver.freight__anomalies, one per document and type) with their
  status; the evidence JSON stays in silver (what a regulator opens one by one).
-#}
with

source as (

    select * from {{ source('freight_silver', 'freight__anomalies') }}

),

renamed as (

    select

        ---------- ids
        anomaly_id,
        operator_id,

        ---------- what broke which rule on which document
        anomaly_type,
        document_kind,
        document_key,
        rule,

        ---------- timestamps (GMT+8 wall-clock): the period attribution, the first detection
        event_time,
        detected_at,

        ---------- appeals (申诉)
        status

    from source

)

select * from renamed
