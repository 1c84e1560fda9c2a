{#- Every version of every enterprise (SCD2, valid [valid_from, valid_to)). -#}
with

source as (

    select * from {{ source('silver', 'telematics__enterprises') }}

),

renamed as (

    select

        ---------- ids
        enterprise_id,
        county_code,

        ---------- text
        name as enterprise_name,
        business_type,

        ---------- validity of this version
        valid_from,
        valid_to,
        is_current

    from source

)

select * from renamed
