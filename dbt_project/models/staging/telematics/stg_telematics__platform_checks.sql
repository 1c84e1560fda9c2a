with

source as (

    select * from {{ source('silver', 'telematics__platform_checks') }}

),

renamed as (

    select

        ---------- ids
        check_id,
        platform_id,
        enterprise_id,

        ---------- timestamps (GMT+8 wall-clock)
        sent_at,
        answered_at,

        ---------- answer
        answer,
        response_s

    from source

)

select * from renamed
