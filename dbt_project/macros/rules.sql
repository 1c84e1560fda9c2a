{#-
  The rules file of this run. dbt keeps no copy of it: the caller passes
  --vars "$(transforms.rules.dbt_vars(load_rules()))", i.e. {"rules": <transforms/rules.yaml with
  each domain's own sections (transforms/<domain>/rules.yaml) nested under the domain's name>}.
  Without it every dbt command stops here, `dbt parse` included (models read the rules while
  they are parsed).
-#}
{% macro lake_rules() -%}
    {%- set rules = var('rules', none) -%}
    {%- if rules is none -%}
        {{ exceptions.raise_compiler_error(
            "var 'rules' missing: pass --vars from transforms.rules.dbt_vars(load_rules())") }}
    {%- endif -%}
    {%- if rules is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var 'rules' must be the rules file as a mapping: pass --vars from "
            ~ "transforms.rules.dbt_vars(load_rules())") }}
    {%- endif -%}
    {{ return(rules) }}
{%- endmacro %}


{#- The sections of `domain` (rules.<domain>: qualification, scoring, …). -#}
{% macro domain_rules(domain) -%}
    {%- set rules = lake_rules() -%}
    {%- if domain not in rules or rules[domain] is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "var 'rules' has no section '" ~ domain ~ "' (the nested rules file, e.g. rules."
            ~ domain ~ ".scoring): pass --vars from transforms.rules.dbt_vars(load_rules())") }}
    {%- endif -%}
    {{ return(rules[domain]) }}
{%- endmacro %}
