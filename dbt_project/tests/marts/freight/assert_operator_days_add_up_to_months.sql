{#-
  The additive counts of an operator's days add up to its month (both grains attribute an
  envelope, a waybill and an anomaly by the same time): a row for every operator-month where they
  do not.
-#}
{%- set counts = ['envelopes', 'accepted', 'rejected', 'waybills', 'anomalies'] %}
with

days as (

    select
        operator_id,
        period,
        {%- for c in counts %}
        sum({{ c }}) as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_freight__operator_days') }}
    group by operator_id, period

),

months as (

    select * from {{ ref('fct_freight__operator_months') }}

)

select
    coalesce(months.operator_id, days.operator_id) as operator_id,
    coalesce(months.period, days.period) as period
from months
full outer join days
    on months.operator_id = days.operator_id
    and months.period = days.period
where
    months.operator_id is null
    or days.operator_id is null
    {%- for c in counts %}
    or months.{{ c }} != days.{{ c }}
    {%- endfor %}
