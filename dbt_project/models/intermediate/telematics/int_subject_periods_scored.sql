{#-
  Scores (考核得分) per level x subject x period (telematics.md "Scoring", rules.scoring):
  - day and month: from their own indicators. Each weighted indicator of the level scores
    rate x w (0 below its min_rate cut-off); drift w - rate x w (0 above max_drift_rate);
    the relative indicators (mean overspeed count, mean fatigue minutes) w x shape / 20 against
    A, the unweighted mean over the subjects of the same level, period and scope
    (rules.scoring.relative_scope: all, or city = first 4 digits of the enterprise's county).
    Null indicators drop out: score = sum of points / sum of the weights of the non-null
    indicators x 100, null when every weighted indicator is null.
  - quarter: mean of the month scores of the quarter (null month scores left out).
  - year: mean of the quarter scores; failed_quarters = quarters that did not pass;
    passed = score >= pass_score and failed_quarters <= rules.annual.max_failed_quarters.
-#}
{%- set rules = assessment_rules() %}
{%- set scope_key = 'substr(subject_county_code, 1, 4)' if rules.scoring.relative_scope == 'city' else "'all'" %}
with

measured as (

    select * from {{ ref('int_subject_periods_measured') }}

),

with_means as (

    select
        *,
        {%- for indicator in assessment_relative_indicators() %}
        avg({{ indicator }}) over (
            partition by level, period_type, period, {{ scope_key }}
        ) as {{ indicator }}_mean{% if not loop.last %},{% endif %}
        {%- endfor %}
    from measured

),

points as (

    select
        *,
        {{ assessment_score_sum('points') }} as points_sum,
        {{ assessment_score_sum('weights') }} as weights_sum
    from with_means

),

own_scores as (

    select
        *,
        case when weights_sum > 0 then points_sum / weights_sum * 100 end as own_score
    from points

),

-- quarter: mean of its month scores (a month and its quarter share year and quarter of start)
with_quarter_scores as (

    select
        *,
        avg(case when period_type = 'month' then own_score end) over (
            partition by level, subject_id, year(period_start), quarter(period_start)
        ) as months_mean_score
    from own_scores

),

quarter_scored as (

    select
        *,
        case when period_type = 'quarter' then months_mean_score end as quarter_score
    from with_quarter_scores

),

-- year: mean of its quarter scores, and the quarters that failed
with_year_scores as (

    select
        *,
        avg(quarter_score) over (
            partition by level, subject_id, year(period_start)
        ) as quarters_mean_score,
        sum(case when quarter_score < {{ assessment_number(rules.scoring.pass_score) }} then 1 else 0 end) over (
            partition by level, subject_id, year(period_start)
        ) as year_failed_quarters
    from quarter_scored

),

scored as (

    select
        *,
        case period_type
            when 'quarter' then quarter_score
            when 'year' then quarters_mean_score
            else own_score
        end as score,
        case when period_type = 'year' then year_failed_quarters end as failed_quarters
    from with_year_scores

),

final as (

    select
        *,
        case
            when score is null then null
            when period_type = 'year'
                then score >= {{ assessment_number(rules.scoring.pass_score) }}
                and failed_quarters <= {{ rules.annual.max_failed_quarters }}
            else score >= {{ assessment_number(rules.scoring.pass_score) }}
        end as passed
    from scored

)

select * from final
