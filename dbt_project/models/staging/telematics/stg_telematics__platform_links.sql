with

source as (

    select * from {{ source('silver', 'telematics__platform_links') }}

),

renamed as (

    select

        ---------- ids
        platform_id,

        ---------- event
        event,
        at as event_at,
        reason

    from source

)

select * from renamed
