{#- Every version of every monitoring platform (SCD2, valid [valid_from, valid_to)) with its filing. -#}
with

source as (

    select * from {{ source('silver', 'telematics__platforms') }}

),

renamed as (

    select

        ---------- ids
        platform_id,

        ---------- text
        name as platform_name,
        provider_name,
        kind,

        ---------- filing (备案)
        software_version,
        service_scope,
        machine_room_address,
        deployment,
        architecture,
        upstream_network,
        upstream_ip_port,
        terminal_ip_port,
        map_approval_number,
        map_source,
        map_scope,
        map_date,
        map_matching_accuracy_m,
        map_provider,
        map_valid_until,
        security_filing_number,
        security_level,
        security_assessor,
        applicant_company,
        applicant_uscc,
        ---------- persons and their numbers: masked only (licences.md, data protection)
        legal_representative_masked as legal_representative,
        technical_lead_masked as technical_lead,
        contact_masked as contact,
        filing_status,
        filed_at,

        ---------- validity of this version
        valid_from,
        valid_to,
        is_current

    from source

)

select * from renamed
