{#-
  Every verified version of every licence (SCD2, valid [version_valid_from, version_valid_to)).
  Personal fields only masked (licences.md, data protection): no _sm4 / _hmac column passes.
-#}
with

source as (

    select * from {{ source('licences_silver', 'licences__licences') }}

),

renamed as (

    select

        ---------- ids
        licence_id,
        licence_no,
        licence_type,
        holder_type,
        ---------- the holder: masked only (a USCC or a plate is shown as is)
        holder_key_masked as holder_key,
        holder_name_masked as holder_name,
        holder_phone_masked as holder_phone,
        legal_representative_masked as legal_representative,
        contact_phone_masked as contact_phone,

        ---------- the licence
        scope,
        status,
        version,
        valid_from,
        valid_to,

        ---------- issuer (GB/T 2260)
        issuing_authority_code,
        issuing_authority_name,
        province_code,

        ---------- timestamps (GMT+8 wall-clock)
        issued_at,
        received_at,

        ---------- validity of this version
        version_valid_from,
        version_valid_to,
        is_current

    from source

)

select * from renamed
