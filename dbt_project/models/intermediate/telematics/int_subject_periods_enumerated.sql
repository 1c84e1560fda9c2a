{#-
  Every assessed subject (考核对象) in every period: all counties, every enterprise and every
  platform of the master data. Names (and an enterprise's county, for the `city` scope of the
  relative scoring) come from the master-data version valid on the period's last day, else from
  the current version.
-#}
with

periods as (

    select * from {{ ref('int_periods_enumerated') }}

),

counties as (

    select * from {{ ref('stg_telematics__counties') }}

),

enterprises as (

    select * from {{ ref('stg_telematics__enterprises') }}

),

platforms as (

    select * from {{ ref('stg_telematics__platforms') }}

),

county_periods as (

    select
        'county' as level,
        counties.county_code as subject_id,
        counties.county_name as subject_name,
        counties.county_code as subject_county_code,
        periods.period_type,
        periods.period,
        periods.period_start,
        periods.period_end
    from counties
    cross join periods

),

enterprise_periods as (

    select
        'enterprise' as level,
        current_version.enterprise_id as subject_id,
        coalesce(valid_version.enterprise_name, current_version.enterprise_name) as subject_name,
        coalesce(valid_version.county_code, current_version.county_code) as subject_county_code,
        periods.period_type,
        periods.period,
        periods.period_start,
        periods.period_end
    from enterprises as current_version
    cross join periods
    left join enterprises as valid_version
        on current_version.enterprise_id = valid_version.enterprise_id
        and valid_version.valid_from <= periods.period_end
        and (valid_version.valid_to is null or valid_version.valid_to > periods.period_end)
    where current_version.is_current

),

platform_periods as (

    select
        'platform' as level,
        current_version.platform_id as subject_id,
        coalesce(valid_version.platform_name, current_version.platform_name) as subject_name,
        cast(null as string) as subject_county_code,
        periods.period_type,
        periods.period,
        periods.period_start,
        periods.period_end
    from platforms as current_version
    cross join periods
    left join platforms as valid_version
        on current_version.platform_id = valid_version.platform_id
        and valid_version.valid_from <= periods.period_end
        and (valid_version.valid_to is null or valid_version.valid_to > periods.period_end)
    where current_version.is_current

),

final as (

    select * from county_periods
    union all
    select * from enterprise_periods
    union all
    select * from platform_periods

)

select * from final
