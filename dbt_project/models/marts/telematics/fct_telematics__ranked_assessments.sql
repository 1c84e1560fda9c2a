{#-
  gold.telematics__ranked_assessments (docs/tables.md): gold.telematics__assessments with each
  subject's rank by score among the subjects of its level in the same period (1 = best; equal
  scores share a rank, the next rank skips; a null score ranks last).
-#}
with

assessments as (

    select * from {{ ref('fct_telematics__assessments') }}

),

final as (

    select
        assessments.*,
        cast(rank() over (
            partition by level, period_type, period
            order by score desc nulls last
        ) as bigint) as score_rank
    from assessments

)

select * from final
