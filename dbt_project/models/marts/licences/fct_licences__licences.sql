{#-
  gold.licences__licences (docs/tables.md): the current (highest) verified version of every
  licence, masked columns only, with the region codes a regulator's view is filtered on.
-#}
with

licences as (

    select * from {{ ref('stg_licences__licences') }}

),

final as (

    select
        ---------- ids
        licence_id,
        licence_no,
        licence_type,
        holder_type,
        holder_key,
        holder_name,

        ---------- the licence
        scope,
        status,
        version,
        valid_from,
        valid_to,
        issued_at,
        date_format(issued_at, 'yyyy-MM') as period,

        ---------- region codes (GB/T 2260): the issuer's
        issuing_authority_code,
        issuing_authority_name,
        province_code
    from licences
    where is_current

)

select * from final
