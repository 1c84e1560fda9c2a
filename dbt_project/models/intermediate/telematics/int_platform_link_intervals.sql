{#-
  Each platform's link state as intervals [start_at, end_at): one per link event, from the event
  to the platform's next event (null end_at: the state carries on), plus a leading `down`
  interval (no reason, so not excused) from the beginning of time (null start_at) to the first
  event. Events at the same instant are ordered down before up.
-#}
with

links as (

    select * from {{ ref('stg_telematics__platform_links') }}

),

event_intervals as (

    select
        platform_id,
        event as state,
        reason,
        event_at as start_at,
        lead(event_at) over (
            partition by platform_id order by event_at, event
        ) as end_at
    from links

),

before_first_event as (

    select
        platform_id,
        'down' as state,
        cast(null as string) as reason,
        cast(null as timestamp) as start_at,
        min(event_at) as end_at
    from links
    group by platform_id

),

final as (

    select platform_id, state, reason, start_at, end_at from before_first_event
    union all
    select platform_id, state, reason, start_at, end_at from event_intervals

)

select * from final
