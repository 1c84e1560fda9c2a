{#-
  Use a model's custom schema as is (`gold`, `staging`) instead of dbt's default
  `<target schema>_<custom schema>`: the schemas are the lake's layers, not per-developer sandboxes.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
