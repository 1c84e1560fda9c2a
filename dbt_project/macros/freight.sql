{#-
  The six freight anomaly types (freight.md "Exact anomaly rules"), in the order of the
  anomalies_<type> / rate_<type> columns of gold.freight__operator_stats
  (transforms/freight/anomalies.py TYPES).
-#}
{% macro freight_anomaly_types() -%}
    {{ return(['access', 'qualification', 'vehicle_network', 'trajectory', 'match', 'duplicate']) }}
{%- endmacro %}
