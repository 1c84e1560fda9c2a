{#-
  gold.telematics__platform_checks (docs/tables.md): every 查岗 check with its month (of sent_at)
  and whether it was answered within rules.telematics.checks.response_limit_min minutes, the rule
  of the check_response_rate indicator (an unanswered check is not in time).
-#}
{%- set limit_s = domain_rules('telematics').checks.response_limit_min * 60 %}
with

checks as (

    select * from {{ ref('stg_telematics__platform_checks') }}

),

final as (

    select
        ---------- ids
        check_id,
        platform_id,
        enterprise_id,

        ---------- the check and its answer
        sent_at,
        date_format(sent_at, 'yyyy-MM') as period,
        answered_at,
        answer,
        response_s,
        coalesce(answered_at is not null and response_s <= {{ limit_s }}, false)
            as answered_in_time
    from checks

)

select * from final
