{#-
  Assessment (考核) helpers: periods, which level reports which indicator, and the scoring rules
  (shared/domain/telematics.md "Scoring"). Every threshold and weight comes from the telematics
  sections of the rules file of the run (var('rules')['telematics'], see macros/rules.sql).
-#}

{#- The telematics rules of this run (transforms/telematics/rules.yaml with the run's overrides). -#}
{% macro assessment_rules() -%}
    {%- set rules = domain_rules('telematics') -%}
    {%- if rules.attribution.vehicle_version != 'period_end' -%}
        {{ exceptions.raise_compiler_error(
            "rules.attribution.vehicle_version = '" ~ rules.attribution.vehicle_version
            ~ "' is not supported (only 'period_end')") }}
    {%- endif -%}
    {%- if rules.scoring.relative_scope not in ('all', 'city') -%}
        {{ exceptions.raise_compiler_error(
            "rules.scoring.relative_scope must be 'all' or 'city', not '"
            ~ rules.scoring.relative_scope ~ "'") }}
    {%- endif -%}
    {{ return(rules) }}
{%- endmacro %}


{#-
  A number from the rules as an exact double literal: Sail casts long decimal literals to double
  with a one-ulp error, strings exactly.
-#}
{% macro assessment_number(value) -%}
    cast('{{ value }}' as double)
{%- endmacro %}


{#- The period types, shortest first. -#}
{% macro assessment_period_types() -%}
    {{ return(['day', 'month', 'quarter', 'year']) }}
{%- endmacro %}


{#- A one-column relation (`period_type`) with one row per period type, to cross join days with. -#}
{% macro assessment_period_type_rows() -%}
    (select explode(array('{{ assessment_period_types() | join("', '") }}')) as period_type)
{%- endmacro %}


{#- The label of the period of type `period_type` containing `day`: YYYY-MM-DD, YYYY-MM, YYYYQn, YYYY. -#}
{% macro assessment_period_label(period_type, day) -%}
    case {{ period_type }}
        when 'day' then date_format({{ day }}, 'yyyy-MM-dd')
        when 'month' then date_format({{ day }}, 'yyyy-MM')
        when 'quarter' then concat(date_format({{ day }}, 'yyyy'), 'Q', cast(quarter({{ day }}) as string))
        when 'year' then date_format({{ day }}, 'yyyy')
    end
{%- endmacro %}


{#- First day of the natural period of type `period_type` containing `day`. -#}
{% macro assessment_period_start(period_type, day) -%}
    case {{ period_type }}
        when 'day' then {{ day }}
        when 'month' then trunc({{ day }}, 'MM')
        when 'quarter' then trunc({{ day }}, 'quarter')
        when 'year' then trunc({{ day }}, 'year')
    end
{%- endmacro %}


{#- Last day of the natural period of type `period_type` containing `day`. -#}
{% macro assessment_period_end(period_type, day) -%}
    case {{ period_type }}
        when 'day' then {{ day }}
        when 'month' then last_day({{ day }})
        when 'quarter' then date_add(add_months(trunc({{ day }}, 'quarter'), 3), -1)
        when 'year' then date_add(add_months(trunc({{ day }}, 'year'), 12), -1)
    end
{%- endmacro %}


{#-
  The levels that report an indicator (telematics.md "Attribution and edge rules"): county — all
  except connectivity and 查岗; enterprise — all except connectivity; platform — connectivity,
  online, track, data, drift, 查岗. Other levels get null.
-#}
{% macro assessment_indicator_levels(indicator) -%}
    {%- set levels = {
        'platform_connectivity_rate': ['platform'],
        'network_entry_rate': ['county', 'enterprise'],
        'online_rate': ['county', 'enterprise', 'platform'],
        'track_completeness_rate': ['county', 'enterprise', 'platform'],
        'data_qualification_rate': ['county', 'enterprise', 'platform'],
        'drift_vehicle_rate': ['county', 'enterprise', 'platform'],
        'check_response_rate': ['enterprise', 'platform'],
        'mean_overspeed_count': ['county', 'enterprise'],
        'mean_fatigue_minutes': ['county', 'enterprise'],
        'violation_rate': ['county', 'enterprise'],
    } -%}
    {%- if indicator not in levels -%}
        {{ exceptions.raise_compiler_error("unknown indicator " ~ indicator) }}
    {%- endif -%}
    {{ return(levels[indicator]) }}
{%- endmacro %}


{#- SQL predicate: the row's `level` reports `indicator`. -#}
{% macro assessment_applies(indicator, level='level') -%}
    {{ level }} in ('{{ assessment_indicator_levels(indicator) | join("', '") }}')
{%- endmacro %}


{#- numerator / denominator as a double; null when the denominator is null or 0. -#}
{% macro assessment_ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}


{#- Indicators scored against the mean A of the enterprises of the same period (and scope). -#}
{% macro assessment_relative_indicators() -%}
    {{ return(['mean_overspeed_count', 'mean_fatigue_minutes']) }}
{%- endmacro %}


{#-
  Points of one indicator with weight `weight` (null when the indicator value is null):
  - relative (overspeed, fatigue): shape against the mean A (column `<indicator>_mean`):
      A = 0 (so x = 0) -> 20; x <= A -> 10 + (A - x) / A * 10; A < x < 2A -> (2A - x) / A * 10;
      x >= 2A -> 0; points = weight * shape / 20
  - drift_vehicle_rate: weight - rate * weight, 0 when rate > rules.scoring.max_drift_rate
  - any other rate: rate * weight
  and 0 whenever the rate is below its rules.scoring.min_rate cut-off (if it has one).
-#}
{% macro assessment_points(indicator, raw_weight) -%}
    {%- set scoring = assessment_rules().scoring -%}
    {%- set weight = assessment_number(raw_weight) -%}
    {%- set x = indicator -%}
    {%- if indicator in assessment_relative_indicators() -%}
        {%- set a = indicator ~ '_mean' -%}
        case
            when {{ x }} is null then null
            when {{ a }} = 0 then {{ weight }}
            when {{ x }} <= {{ a }} then {{ weight }} * (10 + ({{ a }} - {{ x }}) / {{ a }} * 10) / 20
            when {{ x }} < 2 * {{ a }} then {{ weight }} * ((2 * {{ a }} - {{ x }}) / {{ a }} * 10) / 20
            else 0
        end
    {%- else -%}
        case
            when {{ x }} is null then null
            {%- if indicator in scoring.min_rate %}
            when {{ x }} < {{ assessment_number(scoring.min_rate[indicator]) }} then 0
            {%- endif %}
            {%- if indicator == 'drift_vehicle_rate' %}
            when {{ x }} > {{ assessment_number(scoring.max_drift_rate) }} then 0
            else {{ weight }} - {{ x }} * {{ weight }}
            {%- else %}
            else {{ x }} * {{ weight }}
            {%- endif %}
        end
    {%- endif -%}
{%- endmacro %}


{#-
  Sum of the points (`what='points'`) or of the weights of the non-null indicators
  (`what='weights'`) of the row's level, per rules.scoring.weights.
-#}
{% macro assessment_score_sum(what) -%}
    {%- set weights = assessment_rules().scoring.weights -%}
    case level
    {%- for level, level_weights in weights.items() %}
        when '{{ level }}' then
        {%- for indicator, weight in level_weights.items() %}
            {% if not loop.first %}+ {% endif -%}
            {%- if what == 'points' -%}
            coalesce({{ assessment_points(indicator, weight) }}, 0)
            {%- else -%}
            case when {{ indicator }} is not null then {{ assessment_number(weight) }} else 0 end
            {%- endif -%}
        {%- endfor %}
    {%- endfor %}
    end
{%- endmacro %}


{#- The closing part of an indicator model: one row per subject and period with the numerator and
    denominator where the level reports the indicator (else null), and value = their ratio (null on
    a zero denominator). Expects the CTEs `subject_periods` and `measured` (level, subject_id,
    period_type, period, numerator, denominator). -#}
{% macro assessment_indicator_final(indicator) -%}
final as (

    select
        subject_periods.level,
        subject_periods.subject_id,
        subject_periods.period_type,
        subject_periods.period,
        case
            when {{ assessment_applies(indicator, 'subject_periods.level') }}
                then coalesce(measured.numerator, 0)
        end as numerator,
        case
            when {{ assessment_applies(indicator, 'subject_periods.level') }}
                then coalesce(measured.denominator, 0)
        end as denominator
    from subject_periods
    left join measured
        on subject_periods.level = measured.level
        and subject_periods.subject_id = measured.subject_id
        and subject_periods.period_type = measured.period_type
        and subject_periods.period = measured.period

)

select
    *,
    {{ assessment_ratio('numerator', 'denominator') }} as value
from final
{%- endmacro %}
