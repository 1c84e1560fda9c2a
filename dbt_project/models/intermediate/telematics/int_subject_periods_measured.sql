{#-
  One row per level x subject x period with every indicator (null where the level does not report
  it or its denominator is 0) and the numerators and denominators behind them; `vehicles` and
  `online_vehicles` are reported for every level.
-#}
with

subject_periods as (

    select * from {{ ref('int_subject_periods_enumerated') }}

),

vehicle_periods as (

    select * from {{ ref('int_vehicle_periods_attributed') }}

),

platform_connectivity_rate as (

    select * from {{ ref('ind_platform_connectivity_rate_subject_periods') }}

),

network_entry_rate as (

    select * from {{ ref('ind_network_entry_rate_subject_periods') }}

),

online_rate as (

    select * from {{ ref('ind_online_rate_subject_periods') }}

),

track_completeness_rate as (

    select * from {{ ref('ind_track_completeness_rate_subject_periods') }}

),

data_qualification_rate as (

    select * from {{ ref('ind_data_qualification_rate_subject_periods') }}

),

drift_vehicle_rate as (

    select * from {{ ref('ind_drift_vehicle_rate_subject_periods') }}

),

check_response_rate as (

    select * from {{ ref('ind_check_response_rate_subject_periods') }}

),

mean_overspeed_count as (

    select * from {{ ref('ind_mean_overspeed_count_subject_periods') }}

),

mean_fatigue_minutes as (

    select * from {{ ref('ind_mean_fatigue_minutes_subject_periods') }}

),

violation_rate as (

    select * from {{ ref('ind_violation_rate_subject_periods') }}

),

vehicle_counts as (

    select
        level,
        subject_id,
        period_type,
        period,
        count_if(is_counted) as vehicles,
        count_if(is_online) as online_vehicles
    from vehicle_periods
    group by level, subject_id, period_type, period

),

final as (

    select
        subject_periods.level,
        subject_periods.subject_id,
        subject_periods.subject_name,
        subject_periods.subject_county_code,
        subject_periods.period_type,
        subject_periods.period,
        subject_periods.period_start,
        subject_periods.period_end,
        coalesce(vehicle_counts.vehicles, 0) as vehicles,
        coalesce(vehicle_counts.online_vehicles, 0) as online_vehicles,

        ---------- indicators (第三十三条)
        platform_connectivity_rate.value as platform_connectivity_rate,
        network_entry_rate.value as network_entry_rate,
        online_rate.value as online_rate,
        track_completeness_rate.value as track_completeness_rate,
        data_qualification_rate.value as data_qualification_rate,
        drift_vehicle_rate.value as drift_vehicle_rate,
        check_response_rate.value as check_response_rate,
        mean_overspeed_count.value as mean_overspeed_count,
        mean_fatigue_minutes.value as mean_fatigue_minutes,
        violation_rate.value as violation_rate,

        ---------- numerators and denominators
        platform_connectivity_rate.numerator as connected_minutes,
        platform_connectivity_rate.denominator as counted_minutes,
        network_entry_rate.numerator as entered_vehicles,
        online_rate.denominator as operating_entered_vehicles,
        track_completeness_rate.numerator as complete_km,
        track_completeness_rate.denominator as total_km,
        data_qualification_rate.numerator as qualified_records,
        data_qualification_rate.denominator as records,
        drift_vehicle_rate.numerator as drift_vehicles,
        check_response_rate.numerator as checks_answered,
        check_response_rate.denominator as checks_sent,
        mean_overspeed_count.numerator as overspeed_events,
        mean_fatigue_minutes.numerator as fatigue_minutes,
        violation_rate.numerator as violation_vehicles
    from subject_periods
    left join vehicle_counts
        on subject_periods.level = vehicle_counts.level
        and subject_periods.subject_id = vehicle_counts.subject_id
        and subject_periods.period_type = vehicle_counts.period_type
        and subject_periods.period = vehicle_counts.period
    left join platform_connectivity_rate
        on subject_periods.level = platform_connectivity_rate.level
        and subject_periods.subject_id = platform_connectivity_rate.subject_id
        and subject_periods.period_type = platform_connectivity_rate.period_type
        and subject_periods.period = platform_connectivity_rate.period
    left join network_entry_rate
        on subject_periods.level = network_entry_rate.level
        and subject_periods.subject_id = network_entry_rate.subject_id
        and subject_periods.period_type = network_entry_rate.period_type
        and subject_periods.period = network_entry_rate.period
    left join online_rate
        on subject_periods.level = online_rate.level
        and subject_periods.subject_id = online_rate.subject_id
        and subject_periods.period_type = online_rate.period_type
        and subject_periods.period = online_rate.period
    left join track_completeness_rate
        on subject_periods.level = track_completeness_rate.level
        and subject_periods.subject_id = track_completeness_rate.subject_id
        and subject_periods.period_type = track_completeness_rate.period_type
        and subject_periods.period = track_completeness_rate.period
    left join data_qualification_rate
        on subject_periods.level = data_qualification_rate.level
        and subject_periods.subject_id = data_qualification_rate.subject_id
        and subject_periods.period_type = data_qualification_rate.period_type
        and subject_periods.period = data_qualification_rate.period
    left join drift_vehicle_rate
        on subject_periods.level = drift_vehicle_rate.level
        and subject_periods.subject_id = drift_vehicle_rate.subject_id
        and subject_periods.period_type = drift_vehicle_rate.period_type
        and subject_periods.period = drift_vehicle_rate.period
    left join check_response_rate
        on subject_periods.level = check_response_rate.level
        and subject_periods.subject_id = check_response_rate.subject_id
        and subject_periods.period_type = check_response_rate.period_type
        and subject_periods.period = check_response_rate.period
    left join mean_overspeed_count
        on subject_periods.level = mean_overspeed_count.level
        and subject_periods.subject_id = mean_overspeed_count.subject_id
        and subject_periods.period_type = mean_overspeed_count.period_type
        and subject_periods.period = mean_overspeed_count.period
    left join mean_fatigue_minutes
        on subject_periods.level = mean_fatigue_minutes.level
        and subject_periods.subject_id = mean_fatigue_minutes.subject_id
        and subject_periods.period_type = mean_fatigue_minutes.period_type
        and subject_periods.period = mean_fatigue_minutes.period
    left join violation_rate
        on subject_periods.level = violation_rate.level
        and subject_periods.subject_id = violation_rate.subject_id
        and subject_periods.period_type = violation_rate.period_type
        and subject_periods.period = violation_rate.period

)

select * from final
