{#-
  gold.telematics__platform_link_events (docs/tables.md): every platform link event (平台链路
  上线 / 断开) with its month (of event_at).
-#}
with

links as (

    select * from {{ ref('stg_telematics__platform_links') }}

),

final as (

    select
        platform_id,
        event,
        event_at,
        date_format(event_at, 'yyyy-MM') as period,
        reason
    from links

)

select * from final
