{#-
  gold.licences__operation_quality (docs/tables.md): the operation quality of the licence system
  (运行质量, 第四(七)条) per issuing province and month of issued_at — the definition of
  `lakehouse report licences` (transforms/licences/report.py), over the same counted records
  (silver.licences__records: each verified version and each quarantined record once):
  issued = verified versions 1; revoked = verified with status revoked; changed = other verified
  versions > 1; records = all; signature_failures = quarantined for their signature
  (rules.licences.signature.failure_reasons); mean_feed_delay_s = mean of received_at - issued_at.
-#}
{%- set report = domain_rules('licences').report %}
with

records as (

    select * from {{ ref('stg_licences__records') }}

),

counted as (

    select
        province_code,
        period,
        cast(sum(case when is_verified and version = 1 then 1 else 0 end) as bigint) as issued,
        cast(sum(
            case when is_verified and version > 1 and status != 'revoked' then 1 else 0 end
        ) as bigint) as changed,
        cast(sum(case when is_verified and status = 'revoked' then 1 else 0 end) as bigint)
            as revoked,
        count(*) as records,
        cast(sum(case when is_signature_failure then 1 else 0 end) as bigint)
            as signature_failures,
        avg(cast(feed_delay_s as double)) as delay_s
    from records
    group by province_code, period

),

final as (

    select
        province_code,
        period,
        issued,
        changed,
        revoked,
        records,
        signature_failures,
        round(signature_failures / records, {{ report.rate_digits }}) as signature_failure_rate,
        round(delay_s, {{ report.delay_digits }}) as mean_feed_delay_s
    from counted

)

select * from final
