{#- The licence records the operation-quality report counts, one row each (silver.licences__records). -#}
with

source as (

    select * from {{ source('licences_silver', 'licences__records') }}

),

renamed as (

    select

        ---------- ids
        licence_id,
        licence_no,
        version,
        status,

        ---------- issuer and month
        province_code,
        period,

        ---------- timestamps (GMT+8 wall-clock) and the delay between them
        issued_at,
        received_at,
        feed_delay_s,

        ---------- outcome of the signature check and field rules
        outcome,
        is_verified,
        is_signature_failure

    from source

)

select * from renamed
