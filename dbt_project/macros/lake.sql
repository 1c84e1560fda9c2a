{#- Absolute lake root (no trailing slash), set by the orchestrator in LAKEHOUSE_LAKE_ABS. -#}
{% macro lake_root() -%}
    {{ return(env_var('LAKEHOUSE_LAKE_ABS').rstrip('/')) }}
{%- endmacro %}


{#-
  The lake's table format: var `file_format`, delta unless a run says otherwise (the compatibility
  test runs the models on classic Apache Spark over Parquet, which has no Delta reader).
-#}
{% macro lake_file_format() -%}
    {{ return(var('file_format', 'delta')) }}
{%- endmacro %}


{#-
  on-run-start: make the lake visible to this engine session.

  Sail's catalog lives in memory per server, so an embedded dbt run starts with an empty catalog.
  For every declared source we register the existing table (Delta, or lake_file_format()) at
  <lake>/<schema>/<identifier>;
  against a long-running (remote) server the tables usually exist already and IF NOT EXISTS makes
  this a no-op. The gold schema is created too so that the marts can be materialised into it.

  Only the sources the selected nodes read are registered (a domain's run, `-s tag:<domain>`,
  needs no other domain's tables: licences run before telematics has any). A source whose every
  column declares its data_type is registered with that column list, which an engine checks
  against the table there and creates empty where there is none yet (a lake that has not
  received that domain's feeds).
-#}
{% macro register_lake_sources() %}
    {%- if execute -%}
        {%- set root = lake_root() -%}
        {%- set wanted = lake_sources_read() -%}
        {%- set schemas = ['gold'] -%}
        {%- for source in graph.sources.values() if source.unique_id in wanted -%}
            {%- if source.schema not in schemas -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for schema in schemas -%}
            {%- do run_query('create schema if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') if source.unique_id in wanted -%}
            {%- do log('registering source ' ~ source.schema ~ '.' ~ source.identifier, info=false) -%}
            {#- re-point the name: an engine may serve several lakes; dropping an external table keeps its files -#}
            {%- do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.identifier) -%}
            {%- set columns = source.columns.values() | list -%}
            {%- set declared = [] -%}
            {%- for column in columns if column.data_type -%}
                {%- do declared.append(column.name ~ ' ' ~ column.data_type) -%}
            {%- endfor -%}
            {%- set typed = declared and declared | length == columns | length -%}
            {%- do run_query(
                'create table ' ~ source.schema ~ '.' ~ source.identifier
                ~ (' (' ~ declared | join(', ') ~ ')' if typed else '')
                ~ ' using ' ~ lake_file_format() ~ " location '" ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- unique_ids of the sources the selected nodes read (every source when nothing is selected). -#}
{% macro lake_sources_read() -%}
    {%- set selected = selected_resources | default([], true) -%}
    {%- set wanted = [] -%}
    {%- for node in graph.nodes.values() if node.unique_id in selected -%}
        {%- for dependency in node.depends_on.nodes if dependency.startswith('source.') -%}
            {%- do wanted.append(dependency) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if selected | length == 0 -%}
        {%- set wanted = graph.sources.keys() | list -%}
    {%- endif -%}
    {{ return(wanted) }}
{%- endmacro %}


{#- Great-circle distance in km between two lat/lon points (degrees), R from var('earth_radius_km'). -#}
{% macro haversine_km(lat1, lon1, lat2, lon2) -%}
    2 * {{ var('earth_radius_km') }} * asin(sqrt(
        pow(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
        * pow(sin(radians({{ lon2 }} - {{ lon1 }}) / 2), 2)
    ))
{%- endmacro %}
