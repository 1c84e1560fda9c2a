{#-
  One row per failed record and rule of the ride-hailing evaluation (silver.ridehailing__defects):
  which company's record of which interface failed which rule of which dimension.
-#}
with

source as (

    select * from {{ source('ridehailing_silver', 'ridehailing__defects') }}

),

renamed as (

    select

        ---------- ids
        company_id,
        interface,
        natural_key,
        record_key,

        ---------- what failed: the dimension and the rule (<check>:<Field>)
        dimension,
        rule,

        ---------- lineage
        source_file,
        line,

        ---------- when (GMT+8 wall-clock) and the month it counts in
        event_time,
        period_month as period

    from source

)

select * from renamed
