{#- Where a table model is written: `+location_root` in dbt_project.yml is a folder of the lake
    (e.g. `gold`), resolved against the lake of this run (env LAKEHOUSE_LAKE_ABS) when the model
    runs, not when the project is parsed — so the parse state does not depend on the lake and
    dbt's partial parsing holds from one lake to another (orchestration/dbt_cli.py). An absolute
    location_root is used as it is. -#}
{% macro spark__location_clause() %}
  {%- set location_root = config.get('location_root', validator=validation.any[basestring]) -%}
  {%- set identifier = model['alias'] -%}
  {%- if location_root is not none %}
    {%- if not location_root.startswith('/') and ':' not in location_root %}
      {%- set location_root = env_var('LAKEHOUSE_LAKE_ABS') ~ '/' ~ location_root %}
    {%- endif %}
    location '{{ location_root }}/{{ identifier }}'
  {%- endif %}
{%- endmacro -%}
