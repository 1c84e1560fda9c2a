{#- Registered authority keys, one per key_id. -#}
with

source as (

    select * from {{ source('licences_silver', 'licences__authorities') }}

),

renamed as (

    select

        ---------- ids
        key_id,
        authority_code,
        province_code,

        ---------- text
        authority_name,

        ---------- the key and when it may sign
        sm2_public_key,
        valid_from,
        valid_to

    from source

)

select * from renamed
