"""The six freight anomaly types (freight.md "Exact anomaly rules", "Fine print") as SQL views over
the silver tables, evaluated as of a time.

One row per (document, type): ``anomaly_id`` (``<type>:<document_key>``), operator_id (the
envelope's enterpriseSenderCode; for a vehicle overlap, the later-despatched waybill's),
anomaly_type, document_kind, document_key (``shippingNoteNumber/serialNumber`` for a waybill,
documentNumber for a fund flow, messageReferenceNumber for an envelope), rule (the first rule
broken, in the order below), evidence (JSON: every rule broken and the values that broke it) and
event_time (what attributes the row to a period: a waybill's despatch, a fund flow's earliest
payment, an envelope's messageSendingDateTime).

Rules, in the order a row names its first:

- access: ``rejected`` (an envelope with a result code other than 1001; one row per reference);
  ``late_upload`` (an accepted waybill whose sendToProDateTime — else its envelope's sending time —
  is later than goodsReceiptDateTime + 24 h).
- qualification (against silver.licences__licences at despatch): ``operator_permit_<reason>``,
  ``vehicle_record_missing``, ``vehicle_placeholder_not_allowed``, ``vehicle_licence_<reason>``,
  ``driver_record_missing``, ``driver_placeholder_not_allowed``, ``driver_licence_<reason>`` with
  <reason> one of not_found, wrong_kind, holder_mismatch, a status, not_yet_valid, expired.
- vehicle_network: ``no_positions`` (a waybill vehicle with no national point in [despatch, receipt]).
- trajectory: ``first_point_far``, ``last_point_far``, ``track_too_short``.
- match (waybills, evaluated once receipt + 30 days has passed or a fund flow lists it):
  ``no_fund_flow``, ``amount_mismatch``, ``payee_mismatch``, ``payment_before_despatch``,
  ``payment_means_not_allowed``; and on a fund flow whose payments do not add up to its entries:
  ``fund_flow_sum_mismatch`` (document = the fund flow).
- duplicate: ``versions`` (≥ 2 distinct accepted bodies under one key), ``vehicle_overlap``.

Every rule but ``versions`` uses each key's winning version: the accepted one with the latest
messageSendingDateTime (ties: received later, then landed later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from transforms.lake import registry, timetravel

TYPES = ("access", "qualification", "vehicle_network", "trajectory", "match", "duplicate")
STATUSES = ("open", "confirmed", "withdrawn", "closed")

# silver tables → the view names the SQL reads
SOURCES = {
    "f_envelopes": "silver.freight__envelopes",
    "f_waybill_docs": "silver.freight__waybills",
    "f_waybill_vehicle_docs": "silver.freight__waybill_vehicles",
    "f_waybill_driver_docs": "silver.freight__waybill_drivers",
    "f_fund_flow_docs": "silver.freight__fund_flows",
    "f_entry_docs": "silver.freight__fund_flow_waybills",
    "f_payment_docs": "silver.freight__payments",
    "f_vehicle_docs": "silver.freight__vehicles",
    "f_driver_docs": "silver.freight__drivers",
    "f_points": "silver.freight__national_positions",
    "f_divisions": "silver.reference__divisions",
    "f_licences": "silver.licences__licences",
    "f_senders": "silver.freight__senders",
    "f_appeals": "silver.freight__appeals",
    "f_previous": "silver.freight__anomalies",
}


def haversine(lon1: str, lat1: str, lon2: str, lat2: str, radius: float) -> str:
    """SQL of the great-circle distance in km between two points (degrees)."""
    return (
        f"(2 * {radius} * ASIN(SQRT(POWER(SIN(RADIANS({lat2} - {lat1}) / 2), 2) + "
        f"COS(RADIANS({lat1})) * COS(RADIANS({lat2})) * "
        f"POWER(SIN(RADIANS({lon2} - {lon1}) / 2), 2))))"
    )


def _quoted(values: list[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def kind_condition(kinds: list[str], licence_rules: Mapping[str, Any]) -> str:
    """SQL: the licence row (``l``) is of one of ``kinds`` (licence rules ``kinds``)."""
    parts = []
    for name in kinds:
        kind = licence_rules["kinds"][name]
        condition = f"l.licence_type = '{kind['licence_type']}'"
        scopes = kind.get("scopes") or []
        if scopes:
            scoped = " OR ".join(f"l.scope LIKE '%{s}%'" for s in scopes)
            condition = f"({condition} AND ({scoped}))"
        parts.append(condition)
    return "(" + " OR ".join(parts) + ")"


def doc(alias: str) -> str:
    """SQL: row ``alias`` belongs to the document ``w`` (same envelope line and index)."""
    return (
        f"{alias}._file_sm3 = w._file_sm3 AND {alias}._line = w._line "
        f"AND {alias}.document_index = w.document_index"
    )


def winner(documents: str, key: str) -> str:
    """SQL: the accepted documents of ``documents`` with their envelope's columns, numbered
    (``version_rank`` 1 = the winning version of ``key``)."""
    return f"""
SELECT d.*, e.enterprise_sender_code AS operator_id, e.message_sending_time AS sent_at,
       e.received_at AS envelope_received_at,
       ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY e.message_sending_time DESC,
           e.received_at DESC, e._landed_at DESC, e._source_file DESC, e._line DESC,
           d.document_index DESC) AS version_rank
FROM {documents} d JOIN f_envelopes e ON d._file_sm3 = e._file_sm3 AND d._line = e._line
WHERE e.result_code = 1001"""


def views(
    rules: Mapping[str, Any], licence_rules: Mapping[str, Any], as_of: dt.datetime
) -> list[tuple[str, str]]:
    """(view name, SELECT) in dependency order; the last is ``f_anomalies``."""
    radius = float(rules["geo"]["earth_radius_km"])
    q = rules["qualification"]
    t = rules["trajectory"]
    m = rules["match"]
    as_of_sql = f"TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}'"
    kinds = {
        "operator": kind_condition(q["operator_kinds"], licence_rules),
        "vehicle": kind_condition(q["vehicle_kinds"], licence_rules),
        "driver": kind_condition(q["driver_kinds"], licence_rules),
    }
    statuses = _quoted(list(licence_rules["verification"]["status_reasons"]))
    return [
        ("f_waybill_versions", winner("f_waybill_docs", "d.shipping_note_number, d.serial_number")),
        (
            "f_waybills",
            """
SELECT *, CONCAT(shipping_note_number, '/', serial_number) AS waybill_key
FROM f_waybill_versions WHERE version_rank = 1""",
        ),
        (
            "f_waybill_vehicles",
            f"""
SELECT w.waybill_key, w.operator_id, w.despatch_time, w.receipt_time, v.vehicle_index,
       v.vehicle_number, v.plate_color, v.vehicle_holder_hmac, v.loading_county,
       v.receipt_county, v.gross_weight_kg
FROM f_waybills w JOIN f_waybill_vehicle_docs v ON {doc("v")}""",
        ),
        (
            "f_waybill_drivers",
            f"""
SELECT w.waybill_key, d.vehicle_index, d.driver_index, d.driver_name_hmac,
       d.driving_license_hmac
FROM f_waybills w JOIN f_waybill_driver_docs d ON {doc("d")}""",
        ),
        ("f_fund_flow_versions", winner("f_fund_flow_docs", "d.document_number")),
        (
            "f_fund_flows",
            """
SELECT w.*, p.first_payment
FROM f_fund_flow_versions w
LEFT JOIN (SELECT _file_sm3, _line, document_index, MIN(date_time) AS first_payment
           FROM f_payment_docs GROUP BY _file_sm3, _line, document_index) p
  ON p._file_sm3 = w._file_sm3 AND p._line = w._line AND p.document_index = w.document_index
WHERE w.version_rank = 1""",
        ),
        (
            "f_entries",
            f"""
SELECT w.document_number, CONCAT(x.shipping_note_number, '/', x.serial_number) AS waybill_key,
       x.total_monetary_amount
FROM f_fund_flows w JOIN f_entry_docs x ON {doc("x")}""",
        ),
        (
            "f_payments",
            f"""
SELECT w.document_number, p.payment_index, p.payment_means_code, p.recipient_hmac,
       p.monetary_amount, p.date_time
FROM f_fund_flows w JOIN f_payment_docs p ON {doc("p")}""",
        ),
        ("f_vehicle_records", winner("f_vehicle_docs", "d.vehicle_holder_hmac")),
        ("f_driver_records", winner("f_driver_docs", "d.driving_license_hmac")),
        # ---- access ------------------------------------------------------------------------
        (
            "f_access",
            f"""
SELECT operator_id, 'envelope' AS document_kind, document_key, 'rejected' AS rule,
       TO_JSON(NAMED_STRUCT('result_code', result_code, 'reason', reason)) AS evidence,
       event_time
FROM (
  SELECT enterprise_sender_code AS operator_id, message_reference_number AS document_key,
         result_code, reason, message_sending_time AS event_time,
         ROW_NUMBER() OVER (PARTITION BY message_reference_number
                            ORDER BY received_at, _landed_at, _source_file, _line) AS n
  FROM f_envelopes WHERE result_code <> 1001 AND message_reference_number IS NOT NULL
) r WHERE n = 1
UNION ALL
SELECT operator_id, 'waybill', waybill_key, 'late_upload',
       TO_JSON(NAMED_STRUCT('uploaded_at', CAST(COALESCE(send_to_pro_time, sent_at) AS STRING),
                            'goods_receipt_at', CAST(receipt_time AS STRING))),
       despatch_time
FROM f_waybills
WHERE COALESCE(send_to_pro_time, sent_at) >
      receipt_time + INTERVAL {int(rules["access"]["max_upload_delay_h"])} HOUR""",
        ),
        # ---- qualification -----------------------------------------------------------------
        (
            "f_qualification_checks",
            f"""
SELECT w.waybill_key, w.operator_id, w.despatch_time AS at, 1 AS check_order, 0 AS vehicle_index,
       0 AS driver_index, 'operator' AS subject, 'operator_permit' AS label,
       w.permit_number AS licence_no, w.uscc_hmac AS holder, CAST(NULL AS STRING) AS failure
FROM f_waybills w
UNION ALL
SELECT v.waybill_key, v.operator_id, v.despatch_time, 2, v.vehicle_index, 0, 'vehicle',
       'vehicle', r.road_transport_certificate_number, v.vehicle_holder_hmac,
       CASE WHEN r.vehicle_holder_hmac IS NULL THEN 'vehicle_record_missing'
            WHEN r.road_transport_certificate_number RLIKE '{q["vehicle_placeholder_pattern"]}'
                 AND COALESCE(r.gross_mass, 1e9) > {float(q["placeholder_max_gross_mass_t"])}
                 THEN 'vehicle_placeholder_not_allowed'
            WHEN r.road_transport_certificate_number RLIKE '{q["vehicle_placeholder_pattern"]}'
                 THEN 'placeholder_allowed' END
FROM f_waybill_vehicles v
LEFT JOIN f_vehicle_records r ON r.vehicle_holder_hmac = v.vehicle_holder_hmac AND r.version_rank = 1
UNION ALL
SELECT d.waybill_key, v.operator_id, v.despatch_time, 3, d.vehicle_index, d.driver_index,
       'driver', 'driver', r.qualification_certificate, d.driving_license_hmac,
       CASE WHEN r.driving_license_hmac IS NULL THEN 'driver_record_missing'
            WHEN r.qualification_certificate RLIKE '{q["driver_placeholder_pattern"]}'
                 AND COALESCE(vr.gross_mass, 1e9) > {float(q["placeholder_max_gross_mass_t"])}
                 THEN 'driver_placeholder_not_allowed'
            WHEN r.qualification_certificate RLIKE '{q["driver_placeholder_pattern"]}'
                 THEN 'placeholder_allowed' END
FROM f_waybill_drivers d
JOIN f_waybill_vehicles v ON v.waybill_key = d.waybill_key AND v.vehicle_index = d.vehicle_index
LEFT JOIN f_driver_records r ON r.driving_license_hmac = d.driving_license_hmac AND r.version_rank = 1
LEFT JOIN f_vehicle_records vr ON vr.vehicle_holder_hmac = v.vehicle_holder_hmac AND vr.version_rank = 1""",
        ),
        (
            "f_qualification_results",
            f"""
SELECT c.*, CASE
    WHEN c.failure IS NOT NULL THEN c.failure
    WHEN l.licence_no IS NULL THEN CONCAT(c.label, '_licence_not_found')
    WHEN NOT (CASE c.subject WHEN 'operator' THEN {kinds["operator"]}
                             WHEN 'vehicle' THEN {kinds["vehicle"]}
                             ELSE {kinds["driver"]} END)
         THEN CONCAT(c.label, '_licence_wrong_kind')
    WHEN c.holder IS NULL OR l.holder_key_hmac <> c.holder
         THEN CONCAT(c.label, '_licence_holder_mismatch')
    WHEN l.status <> 'valid' THEN CONCAT(c.label, '_licence_',
         CASE WHEN l.status IN ({statuses}) THEN l.status ELSE 'unknown_status' END)
    WHEN l.valid_from IS NULL OR CAST(c.at AS DATE) < l.valid_from
         THEN CONCAT(c.label, '_licence_not_yet_valid')
    WHEN l.valid_to IS NULL OR CAST(c.at AS DATE) > l.valid_to
         THEN CONCAT(c.label, '_licence_expired')
  END AS reason
FROM (
  SELECT c.*, l.licence_no AS found_no,
         ROW_NUMBER() OVER (PARTITION BY c.waybill_key, c.check_order, c.vehicle_index,
                            c.driver_index ORDER BY l.version DESC, l.issued_at DESC) AS n
  FROM f_qualification_checks c
  -- equality and range conditions only (the key is null where the check already failed, an
  -- open end is far in the future): every engine can plan a hash or range join; a condition on
  -- one side only, or an OR, made DuckDB loop over every pair (a province-day ran for hours)
  LEFT JOIN f_licences l ON l.licence_no = CASE WHEN c.failure IS NULL THEN c.licence_no END
       AND l.version_valid_from <= c.at
       AND c.at < COALESCE(l.version_valid_to, TIMESTAMP '9999-12-31 00:00:00')
) c
LEFT JOIN f_licences l ON l.licence_no = c.found_no AND l.version_valid_from <= c.at
     AND c.at < COALESCE(l.version_valid_to, TIMESTAMP '9999-12-31 00:00:00')
WHERE c.n = 1""".replace("'operator_permit_licence_", "'operator_permit_"),
        ),
        (
            "f_qualification",
            """
SELECT operator_id, 'waybill' AS document_kind, waybill_key AS document_key,
       REPLACE(ELEMENT_AT(reasons, 1).reason, 'operator_permit_licence_', 'operator_permit_') AS rule,
       TO_JSON(NAMED_STRUCT('failures', TRANSFORM(reasons, r -> NAMED_STRUCT(
           'subject', r.subject, 'vehicle_index', r.vehicle_index,
           'driver_index', r.driver_index, 'licence_no', r.licence_no,
           'reason', REPLACE(r.reason, 'operator_permit_licence_', 'operator_permit_'))))) AS evidence,
       at AS event_time
FROM (
  SELECT waybill_key, FIRST(operator_id) AS operator_id, FIRST(at) AS at,
         ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('check_order', check_order,
             'vehicle_index', vehicle_index, 'driver_index', driver_index, 'subject', subject,
             'licence_no', licence_no, 'reason', reason))) AS reasons
  FROM f_qualification_results
  WHERE reason IS NOT NULL AND reason <> 'placeholder_allowed'
  GROUP BY waybill_key
) g""",
        ),
        # ---- positions: vehicle network and trajectory -------------------------------------
        (
            "f_trip_points",
            """
SELECT v.waybill_key, v.vehicle_index, p.gnss_time, p.lon, p.lat
FROM f_waybill_vehicles v JOIN f_points p
  ON p.plate = v.vehicle_number AND CAST(p.plate_color AS INT) = CAST(v.plate_color AS INT)
 AND p.gnss_time >= v.despatch_time AND p.gnss_time <= v.receipt_time""",
        ),
        (
            "f_trip_legs",
            f"""
SELECT waybill_key, vehicle_index, gnss_time, lon, lat,
       {
                haversine(
                    "LAG(lon) OVER (PARTITION BY waybill_key, vehicle_index ORDER BY gnss_time)",
                    "LAG(lat) OVER (PARTITION BY waybill_key, vehicle_index ORDER BY gnss_time)",
                    "lon",
                    "lat",
                    radius,
                )
            } AS leg_km
FROM f_trip_points""",
        ),
        (
            "f_trips",
            """
SELECT v.waybill_key, v.operator_id, v.despatch_time, v.vehicle_index, v.vehicle_number,
       COALESCE(s.points, 0) AS points, s.first_lon, s.first_lat, s.last_lon, s.last_lat,
       COALESCE(s.length_km, 0) AS length_km,
       lo.lon AS loading_lon, lo.lat AS loading_lat, re.lon AS receipt_lon, re.lat AS receipt_lat
FROM f_waybill_vehicles v
LEFT JOIN (
  SELECT waybill_key, vehicle_index, COUNT(*) AS points,
         MIN_BY(lon, gnss_time) AS first_lon, MIN_BY(lat, gnss_time) AS first_lat,
         MAX_BY(lon, gnss_time) AS last_lon, MAX_BY(lat, gnss_time) AS last_lat,
         SUM(COALESCE(leg_km, 0)) AS length_km
  FROM f_trip_legs GROUP BY waybill_key, vehicle_index
) s ON s.waybill_key = v.waybill_key AND s.vehicle_index = v.vehicle_index
LEFT JOIN f_divisions lo ON lo.code = v.loading_county AND lo.lon IS NOT NULL
LEFT JOIN f_divisions re ON re.code = v.receipt_county AND re.lon IS NOT NULL""",
        ),
        (
            "f_trip_checks",
            f"""
SELECT *,
  CASE WHEN points = 0 THEN NULL
       WHEN loading_lon IS NOT NULL
            AND {haversine("first_lon", "first_lat", "loading_lon", "loading_lat", radius)} > {float(t["max_endpoint_km"])}
            THEN 'first_point_far'
       WHEN receipt_lon IS NOT NULL
            AND {haversine("last_lon", "last_lat", "receipt_lon", "receipt_lat", radius)} > {float(t["max_endpoint_km"])}
            THEN 'last_point_far'
       WHEN loading_lon IS NOT NULL AND receipt_lon IS NOT NULL
            AND {haversine("loading_lon", "loading_lat", "receipt_lon", "receipt_lat", radius)} >= {float(t["min_centroid_km"])}
            AND length_km < {float(t["min_length_ratio"])} * {haversine("loading_lon", "loading_lat", "receipt_lon", "receipt_lat", radius)}
            THEN 'track_too_short'
  END AS trajectory_rule,
  {haversine("first_lon", "first_lat", "loading_lon", "loading_lat", radius)} AS first_km,
  {haversine("last_lon", "last_lat", "receipt_lon", "receipt_lat", radius)} AS last_km,
  {haversine("loading_lon", "loading_lat", "receipt_lon", "receipt_lat", radius)} AS centroid_km
FROM f_trips""",
        ),  # noqa: E501
        (
            "f_vehicle_network",
            """
SELECT operator_id, 'waybill' AS document_kind, waybill_key AS document_key,
       'no_positions' AS rule,
       TO_JSON(NAMED_STRUCT('vehicles_without_points', ARRAY_SORT(COLLECT_LIST(vehicle_number)))) AS evidence,
       FIRST(despatch_time) AS event_time
FROM f_trip_checks WHERE points = 0
GROUP BY operator_id, waybill_key""",
        ),
        (
            "f_trajectory",
            """
SELECT operator_id, 'waybill' AS document_kind, waybill_key AS document_key,
       ELEMENT_AT(checks, 1).rule AS rule,
       TO_JSON(NAMED_STRUCT('vehicles', TRANSFORM(checks, c -> NAMED_STRUCT(
           'vehicle_index', c.vehicle_index, 'rule', c.rule, 'points', c.points,
           'first_km', ROUND(c.first_km, 3), 'last_km', ROUND(c.last_km, 3),
           'length_km', ROUND(c.length_km, 3), 'centroid_km', ROUND(c.centroid_km, 3))))) AS evidence,
       event_time
FROM (
  SELECT operator_id, waybill_key, FIRST(despatch_time) AS event_time,
         ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('vehicle_index', vehicle_index,
             'rule', trajectory_rule, 'points', points, 'first_km', first_km,
             'last_km', last_km, 'length_km', length_km, 'centroid_km', centroid_km))) AS checks
  FROM f_trip_checks WHERE trajectory_rule IS NOT NULL
  GROUP BY operator_id, waybill_key
) g""",
        ),
        # ---- match -------------------------------------------------------------------------
        (
            "f_waybill_payments",
            """
SELECT e.waybill_key, p.document_number, p.payment_means_code, p.recipient_hmac,
       p.monetary_amount, p.date_time
FROM f_entries e JOIN f_payments p ON p.document_number = e.document_number""",
        ),
        (
            "f_match_checks",
            f"""
SELECT w.waybill_key, w.operator_id, w.despatch_time, w.receipt_time,
       CAST(w.total_monetary_amount AS DOUBLE) AS total_monetary_amount, paid.entries_total, paid.flows, COALESCE(p.in_window, 0) AS in_window,
       COALESCE(p.other_payees, 0) AS other_payees, COALESCE(p.early, 0) AS early,
       COALESCE(p.means, 0) AS means
FROM f_waybills w
LEFT JOIN (SELECT waybill_key, CAST(SUM(total_monetary_amount) AS DOUBLE) AS entries_total,
                  COUNT(DISTINCT document_number) AS flows
           FROM f_entries GROUP BY waybill_key) paid ON paid.waybill_key = w.waybill_key
LEFT JOIN (
  SELECT p.waybill_key,
    SUM(CASE WHEN p.date_time <= w.receipt_time + INTERVAL {int(m["window_days"])} DAY
             THEN 1 ELSE 0 END) AS in_window,
    SUM(CASE WHEN (p.recipient_hmac IS NULL
                   OR p.recipient_hmac <> COALESCE(w.actual_carrier_name_hmac, ''))
                  AND d.driver_name_hmac IS NULL THEN 1 ELSE 0 END) AS other_payees,
    SUM(CASE WHEN p.date_time < w.despatch_time THEN 1 ELSE 0 END) AS early,
    SUM(CASE WHEN p.payment_means_code IS NULL OR p.payment_means_code NOT IN
             ({_quoted(list(m["payment_means_allowed"]))}) THEN 1 ELSE 0 END) AS means
  FROM f_waybill_payments p
  JOIN f_waybills w ON w.waybill_key = p.waybill_key
  LEFT JOIN (SELECT DISTINCT waybill_key, driver_name_hmac FROM f_waybill_drivers) d
    ON d.waybill_key = p.waybill_key AND d.driver_name_hmac = p.recipient_hmac
  GROUP BY p.waybill_key
) p ON p.waybill_key = w.waybill_key
WHERE w.receipt_time IS NOT NULL
  AND ({as_of_sql} >= w.receipt_time + INTERVAL {int(m["window_days"])} DAY OR paid.flows > 0)""",
        ),
        (
            "f_match",
            f"""
SELECT operator_id, 'waybill' AS document_kind, waybill_key AS document_key,
  CASE WHEN in_window = 0 AND {as_of_sql} >= receipt_time + INTERVAL {int(m["window_days"])} DAY
            THEN 'no_fund_flow'
       WHEN ABS(COALESCE(entries_total, 0) - total_monetary_amount) > {float(m["tolerance_yuan"])}
            THEN 'amount_mismatch'
       WHEN other_payees > 0 THEN 'payee_mismatch'
       WHEN early > 0 THEN 'payment_before_despatch'
       WHEN means > 0 THEN 'payment_means_not_allowed' END AS rule,
  TO_JSON(NAMED_STRUCT('fund_flows', COALESCE(flows, 0),
      'paid_in_window', in_window, 'waybill_amount', CAST(total_monetary_amount AS STRING),
      'listed_amount', CAST(entries_total AS STRING), 'other_payees', other_payees,
      'payments_before_despatch', early, 'payments_not_allowed', means)) AS evidence,
  despatch_time AS event_time
FROM f_match_checks
WHERE (in_window = 0 AND {as_of_sql} >= receipt_time + INTERVAL {int(m["window_days"])} DAY)
   OR ABS(COALESCE(entries_total, 0) - total_monetary_amount) > {float(m["tolerance_yuan"])}
   OR other_payees > 0 OR early > 0 OR means > 0
UNION ALL
SELECT f.operator_id, 'fund_flow', f.document_number, 'fund_flow_sum_mismatch',
       TO_JSON(NAMED_STRUCT('payments', CAST(p.total AS STRING),
                            'entries', CAST(e.total AS STRING))),
       f.first_payment
FROM f_fund_flows f
JOIN (SELECT document_number, CAST(SUM(monetary_amount) AS DOUBLE) AS total FROM f_payments
      GROUP BY document_number) p ON p.document_number = f.document_number
JOIN (SELECT document_number, CAST(SUM(total_monetary_amount) AS DOUBLE) AS total
      FROM f_entries
      GROUP BY document_number) e ON e.document_number = f.document_number
WHERE ABS(p.total - e.total) > {float(m["tolerance_yuan"])}""",
        ),
        # ---- duplicate ---------------------------------------------------------------------
        (
            "f_overlaps",
            f"""
SELECT later.waybill_key, later.operator_id, later.despatch_time, later.vehicle_number,
       earlier.waybill_key AS other_waybill
FROM f_waybill_vehicles later JOIN f_waybill_vehicles earlier
  ON earlier.vehicle_number = later.vehicle_number
 AND CAST(earlier.plate_color AS INT) = CAST(later.plate_color AS INT)
 AND earlier.waybill_key <> later.waybill_key
 AND (earlier.despatch_time < later.despatch_time
      OR (earlier.despatch_time = later.despatch_time AND earlier.waybill_key < later.waybill_key))
 AND LEAST(earlier.receipt_time, later.receipt_time)
     > GREATEST(earlier.despatch_time, later.despatch_time)
       + INTERVAL {int(rules["duplicate"]["max_overlap_minutes"])} MINUTE""",
        ),
        (
            "f_duplicate",
            """
SELECT COALESCE(v.operator_id, o.operator_id) AS operator_id, 'waybill' AS document_kind,
       COALESCE(v.waybill_key, o.waybill_key) AS document_key,
       CASE WHEN v.waybill_key IS NOT NULL THEN 'versions' ELSE 'vehicle_overlap' END AS rule,
       TO_JSON(NAMED_STRUCT('distinct_versions', COALESCE(v.bodies, 1),
           'extra_versions', COALESCE(v.bodies, 1) - 1,
           'overlapping_waybills', o.others)) AS evidence,
       COALESCE(v.event_time, o.event_time) AS event_time
FROM (
  SELECT w.waybill_key, w.operator_id, w.despatch_time AS event_time, n.bodies
  FROM f_waybills w JOIN (
    SELECT CONCAT(shipping_note_number, '/', serial_number) AS waybill_key,
           COUNT(DISTINCT document_sm3) AS bodies
    FROM f_waybill_versions GROUP BY shipping_note_number, serial_number
    HAVING COUNT(DISTINCT document_sm3) >= 2) n ON n.waybill_key = w.waybill_key
) v FULL OUTER JOIN (
  SELECT waybill_key, FIRST(operator_id) AS operator_id, FIRST(despatch_time) AS event_time,
         ARRAY_SORT(COLLECT_SET(other_waybill)) AS others
  FROM f_overlaps GROUP BY waybill_key
) o ON o.waybill_key = v.waybill_key""",
        ),
        (
            "f_anomaly_rows",
            """
SELECT CONCAT(anomaly_type, ':', document_key) AS anomaly_id, operator_id, anomaly_type,
       document_kind, document_key, rule, evidence, event_time
FROM (
  SELECT 'access' AS anomaly_type, * FROM f_access
  UNION ALL SELECT 'qualification', * FROM f_qualification
  UNION ALL SELECT 'vehicle_network', * FROM f_vehicle_network
  UNION ALL SELECT 'trajectory', * FROM f_trajectory
  UNION ALL SELECT 'match', * FROM f_match
  UNION ALL SELECT 'duplicate', * FROM f_duplicate
) a""",
        ),
    ]


# what a missing optional source reads as: no licence (every check not_found), no division (every
# county unknown)
EMPTY = {
    "f_licences": (
        "SELECT CAST(NULL AS STRING) AS licence_no, CAST(NULL AS STRING) AS licence_type, "
        "CAST(NULL AS STRING) AS scope, CAST(NULL AS STRING) AS holder_key_hmac, "
        "CAST(NULL AS STRING) AS status, CAST(NULL AS DATE) AS valid_from, "
        "CAST(NULL AS DATE) AS valid_to, CAST(NULL AS INT) AS version, "
        "CAST(NULL AS TIMESTAMP) AS issued_at, CAST(NULL AS TIMESTAMP) AS version_valid_from, "
        "CAST(NULL AS TIMESTAMP) AS version_valid_to WHERE 1 = 0"
    ),
    "f_appeals": (
        "SELECT CAST(NULL AS STRING) AS appeal_id, CAST(NULL AS STRING) AS anomaly_id, "
        "CAST(NULL AS STRING) AS event, CAST(NULL AS STRING) AS status, "
        "CAST(NULL AS TIMESTAMP) AS at WHERE 1 = 0"
    ),
    "f_previous": (
        "SELECT CAST(NULL AS STRING) AS anomaly_id, CAST(NULL AS STRING) AS operator_id, "
        "CAST(NULL AS STRING) AS anomaly_type, CAST(NULL AS STRING) AS document_kind, "
        "CAST(NULL AS STRING) AS document_key, CAST(NULL AS STRING) AS rule, "
        "CAST(NULL AS STRING) AS evidence, CAST(NULL AS TIMESTAMP) AS event_time WHERE 1 = 0"
    ),
    "f_divisions": (
        "SELECT CAST(NULL AS STRING) AS code, CAST(NULL AS DOUBLE) AS lon, "
        "CAST(NULL AS DOUBLE) AS lat WHERE 1 = 0"
    ),
}


# the status an appeal gave (申诉: withdrawn / confirmed), else open; a withdrawn anomaly that no
# longer evaluates (its licence arrived) stays listed, as the monitoring last wrote it
STATUS_VIEWS = (
    (
        "f_appeal_status",
        """
SELECT anomaly_id, status FROM (
  SELECT anomaly_id, status,
         ROW_NUMBER() OVER (PARTITION BY anomaly_id ORDER BY at DESC,
                            CASE event WHEN 'filed' THEN 0 ELSE 1 END DESC) AS n
  FROM f_appeals WHERE status IS NOT NULL
) s WHERE n = 1""",
    ),
    (
        "f_anomalies",
        """
SELECT a.*, COALESCE(s.status, 'open') AS status
FROM f_anomaly_rows a LEFT JOIN f_appeal_status s ON s.anomaly_id = a.anomaly_id
UNION ALL
SELECT p.anomaly_id, p.operator_id, p.anomaly_type, p.document_kind, p.document_key, p.rule,
       p.evidence, p.event_time, 'withdrawn' AS status
FROM f_previous p JOIN f_appeal_status s ON s.anomaly_id = p.anomaly_id
LEFT JOIN f_anomaly_rows a ON a.anomaly_id = p.anomaly_id
WHERE s.status = 'withdrawn' AND a.anomaly_id IS NULL""",
    ),
)


def apply_statuses(spark: SparkSession, lake: Path) -> DataFrame:
    """(Re)build ``f_anomalies`` from ``f_anomaly_rows`` with the appeals as they are now."""
    register_sources(spark, lake, only=("f_appeals", "f_previous"))
    for name, select in STATUS_VIEWS:
        spark.sql(select).createOrReplaceTempView(name)
    return spark.table("f_anomalies")


def register_sources(spark: SparkSession, lake: Path, only: tuple[str, ...] | None = None) -> None:
    """The silver tables as the views the SQL reads (optional ones may be absent: an empty
    view), through transforms/lake/timetravel.py (the versions a bulletin read, when pinned)."""
    for view, name in SOURCES.items():
        if only is not None and view not in only:
            continue
        table = registry.table(name)
        if timetravel.exists(table, lake):
            timetravel.read(spark, table, lake).createOrReplaceTempView(view)
        elif view in EMPTY:
            spark.sql(EMPTY[view]).createOrReplaceTempView(view)
        else:
            raise FileNotFoundError(f"{name} does not exist yet in {lake}: publish freight first")


def compute(
    spark: SparkSession,
    lake: Path,
    rules: Mapping[str, Any],
    licence_rules: Mapping[str, Any],
    as_of: dt.datetime,
) -> DataFrame:
    """Every anomaly as of ``as_of`` (GMT+8 wall clock), without status or detection time."""
    register_sources(spark, lake)
    for name, select in views(rules, licence_rules, as_of):
        try:
            spark.sql(select).createOrReplaceTempView(name)
        except Exception as exc:
            raise RuntimeError(f"freight anomalies: view {name} failed: {exc}") from exc
    return apply_statuses(spark, lake)


def compute_statistics(spark: SparkSession, rules: Mapping[str, Any], grain: str) -> DataFrame:
    """Statistics per operator and period (after :func:`compute` registered the views)."""
    from transforms.freight.statistics import statistics_sql

    frame = spark.sql(statistics_sql(rules, grain))
    frame.createOrReplaceTempView(f"f_statistics_{grain}")
    return frame
