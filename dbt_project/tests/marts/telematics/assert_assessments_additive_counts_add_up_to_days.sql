-- The counts that are additive over days add up from the day rows to the month rows: records
-- and qualified records a platform sent (by the record's platform), 查岗 checks sent to and
-- answered by a platform or an enterprise (by the day of sent_at). Every day between the first
-- and the last day with data is a day row, so each month is the sum of its days.

{{ config(meta={'dagster': {'ref': {'name': 'fct_telematics__assessments'}}}) }}

with

assessments as (

    select * from {{ ref('fct_telematics__assessments') }}

),

days_by_month as (

    select
        level,
        subject_id,
        date_format(period_start, 'yyyy-MM') as period,
        sum(records) as records,
        sum(qualified_records) as qualified_records,
        sum(checks_sent) as checks_sent,
        sum(checks_answered) as checks_answered
    from assessments
    where period_type = 'day'
    group by level, subject_id, date_format(period_start, 'yyyy-MM')

),

months as (

    select * from assessments
    where period_type = 'month'

)

select
    months.level,
    months.subject_id,
    months.period
from months
inner join days_by_month
    on months.level = days_by_month.level
    and months.subject_id = days_by_month.subject_id
    and months.period = days_by_month.period
where
    (
        months.level = 'platform'
        and (
            months.records != days_by_month.records
            or months.qualified_records != days_by_month.qualified_records
        )
    )
    or (
        months.level in ('enterprise', 'platform')
        and (
            months.checks_sent != days_by_month.checks_sent
            or months.checks_answered != days_by_month.checks_answered
        )
    )
