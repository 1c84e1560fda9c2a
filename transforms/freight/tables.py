"""Every Delta table of the network-freight domain (网络货运): layer, location, key."""

from __future__ import annotations

from transforms.lake.registry import Table

LANDED = ("_file_sm3", "_line")
DOCUMENT = ("_file_sm3", "_line", "document_index")

# fmt: off
TABLES: tuple[Table, ...] = (
    Table("bronze.freight__senders",
          "Platforms' SM2 public keys as received (enterpriseSenderCode, validity).", key=LANDED),
    Table("quarantine.freight__senders", "Sender key lines that could not be parsed.", key=LANDED),
    Table("bronze.freight__envelopes",
          "National-crypto envelopes as received (body still SM4-encrypted), with lineage.",
          key=LANDED),
    Table("quarantine.freight__envelopes",
          "Envelope lines that are not a JSON object (a .json file that is not one is a "
          "rejected file).", key=LANDED),
    Table("bronze.freight__national_positions",
          "Points of the national freight vehicle platform as received.", key=LANDED),
    Table("quarantine.freight__national_positions",
          "National position lines that could not be parsed or break a field rule.", key=LANDED),
    Table("silver.freight__senders",
          "Registered sender keys (企业发送方公钥), one per (sender, valid_from), the record landed "
          "last wins.", key=("enterprise_sender_code", "valid_from")),
    Table("silver.freight__envelopes",
          "Every envelope received, opened: result code (1001 accepted, 3001 duplicate, 3005 "
          "fields, 3006 key, 3007 payload, 3008 parse, 3009 signature) and reason.", key=LANDED),
    Table("silver.freight__waybills",
          "Waybill (运单) documents of every envelope that opened, one row per version; "
          "personal fields encrypted / hashed / masked.", key=DOCUMENT),
    Table("silver.freight__waybill_vehicles",
          "The vehicles of each waybill version, with loading / receipt counties and goods.",
          key=(*DOCUMENT, "vehicle_index")),
    Table("silver.freight__waybill_drivers",
          "The drivers of each waybill vehicle (names and licence numbers protected).",
          key=(*DOCUMENT, "vehicle_index", "driver_index")),
    Table("silver.freight__fund_flows",
          "Fund-flow (资金流水单) documents, one row per version.", key=DOCUMENT),
    Table("silver.freight__fund_flow_waybills",
          "The waybills each fund flow pays for (shippingNoteList).",
          key=(*DOCUMENT, "entry_index")),
    Table("silver.freight__payments",
          "The payments of each fund flow (financiallist; payee and account protected).",
          key=(*DOCUMENT, "payment_index")),
    Table("silver.freight__vehicles",
          "Vehicle (车辆) documents, one row per version.", key=DOCUMENT),
    Table("silver.freight__drivers",
          "Driver (驾驶员) documents, one row per version (ID number, name, phone protected).",
          key=DOCUMENT),
    Table("silver.freight__national_positions",
          "National platform points, typed, one per (plate, colour, gnss_time).",
          partition_by=("gnss_date",), key=("plate", "plate_color", "gnss_time")),
    Table("silver.freight__anomalies",
          "The six anomaly types (单据接入, 资质, 车辆入网, 运输轨迹, 运单与资金流水单匹配, 运单重复): one "
          "row per (document, type) with rule, evidence, first detection and status.",
          key=("anomaly_id",)),
    Table("silver.freight__appeals",
          "Appeals (申诉) of anomalies and their re-checks, append-only history.",
          key=("appeal_id", "event")),
    Table("gold.freight__operator_stats",
          "Statistics, score and rank per operator and period (运行监测; grain month / day).",
          key=("operator_id", "period")),
    Table("silver.freight__alarm_events",
          "Alarm follow-up (整改): the operator's rectification result closing an alarm; "
          "append-only.", key=("operator_id", "day", "event")),
    Table("ops.freight__uploads",
          "Envelopes re-packed for the ministry system (上传部级系统): the operator's reference, the "
          "uploaded reference, outbox file; append-only.", key=("_file_sm3", "_line")),
    Table("gold.freight__operator_months",
          "The monthly ranking the dashboard shows (dbt): operator_stats' months, anomalies added "
          "up, complete_on.", key=("operator_id", "period")),
    Table("gold.freight__operator_days",
          "Daily waybills, tonnes and charges per operator (dbt).", key=("operator_id", "day")),
    Table("gold.freight__anomalies",
          "Anomaly rows without evidence, with operator name, day, month, is_counted (dbt).",
          key=("anomaly_id",)),
    Table("gold.freight__alarm_days",
          "Alarms with status, closure time and rectification result, by day and month (dbt).",
          key=("operator_id", "day")),
    Table("gold.freight__alarms",
          "Operator-days whose anomaly rate exceeds the threshold (预警), with their status.",
          key=("operator_id", "day")),
)
# fmt: on
