{#-
  check_response_rate -- 平台查岗响应率: checks answered within rules.checks.response_limit_min
  minutes / checks sent in the period (by sent_at). enterprise: the checks addressed to it
  (enterprise_id); platform: every check with its platform_id (including those addressed to its
  enterprises). A check with answered_at null or later than the limit is unanswered.
-#}
{%- set limit_s = assessment_rules().checks.response_limit_min * 60 %}
with

subject_periods as (

    select level, subject_id, period_type, period
    from {{ ref('int_subject_periods_enumerated') }}

),

checks as (

    select * from {{ ref('stg_telematics__platform_checks') }}

),

period_types as (

    select period_type from {{ assessment_period_type_rows() }}

),

period_checks as (

    select
        period_types.period_type,
        {{ assessment_period_label('period_types.period_type', 'to_date(checks.sent_at)') }} as period,
        checks.platform_id,
        checks.enterprise_id,
        coalesce(
            checks.answered_at is not null and checks.response_s <= {{ limit_s }}, false
        ) as is_answered_in_time
    from checks
    cross join period_types

),

measured as (

    select
        'enterprise' as level,
        enterprise_id as subject_id,
        period_type,
        period,
        count_if(is_answered_in_time) as numerator,
        count(*) as denominator
    from period_checks
    where enterprise_id is not null
    group by 1, 2, 3, 4

    union all

    select
        'platform' as level,
        platform_id as subject_id,
        period_type,
        period,
        count_if(is_answered_in_time) as numerator,
        count(*) as denominator
    from period_checks
    where platform_id is not null
    group by 1, 2, 3, 4

),

{{ assessment_indicator_final('check_response_rate') }}
