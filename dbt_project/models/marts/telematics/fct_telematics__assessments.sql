{#-
  gold.telematics__assessments (docs/tables.md): one row per level x subject x period type x
  period with the indicators (第三十三条), the score and the numerators / denominators behind them.
  No rounding here: consumers round for display.
-#}
{{ config(materialized='table', schema='gold', alias='telematics__assessments') }}

with

scored as (

    select * from {{ ref('int_subject_periods_scored') }}

),

final as (

    select
        ---------- subject and period
        level,
        subject_id,
        subject_name,
        subject_county_code as county_code,  -- 所在县区: a county's own code, an enterprise's county (its version valid on the period's last day), null for a platform
        period_type,
        period,
        period_start,
        period_end,

        ---------- populations
        cast(vehicles as bigint) as vehicles,
        cast(online_vehicles as bigint) as online_vehicles,

        ---------- indicators
        cast(platform_connectivity_rate as double) as platform_connectivity_rate,  -- 平台连通率
        cast(network_entry_rate as double) as network_entry_rate,                  -- 车辆入网率
        cast(online_rate as double) as online_rate,                                -- 车辆上线率
        cast(track_completeness_rate as double) as track_completeness_rate,        -- 轨迹完整率
        cast(data_qualification_rate as double) as data_qualification_rate,        -- 数据合格率
        cast(drift_vehicle_rate as double) as drift_vehicle_rate,                  -- 卫星定位漂移车辆率
        cast(check_response_rate as double) as check_response_rate,                -- 平台查岗响应率
        cast(mean_overspeed_count as double) as mean_overspeed_count,              -- 平均车辆超速次数
        cast(mean_fatigue_minutes as double) as mean_fatigue_minutes,              -- 平均疲劳驾驶时长
        cast(violation_rate as double) as violation_rate,                          -- 车辆违法违规率

        ---------- result
        cast(score as double) as score,
        passed,
        cast(failed_quarters as int) as failed_quarters,

        ---------- numerators and denominators
        cast(entered_vehicles as bigint) as entered_vehicles,
        cast(operating_entered_vehicles as bigint) as operating_entered_vehicles,
        cast(complete_km as double) as complete_km,
        cast(total_km as double) as total_km,
        cast(qualified_records as bigint) as qualified_records,
        cast(records as bigint) as records,
        cast(drift_vehicles as bigint) as drift_vehicles,
        cast(checks_answered as bigint) as checks_answered,
        cast(checks_sent as bigint) as checks_sent,
        cast(overspeed_events as bigint) as overspeed_events,
        cast(fatigue_minutes as double) as fatigue_minutes,
        cast(violation_vehicles as bigint) as violation_vehicles,
        cast(connected_minutes as double) as connected_minutes,
        cast(counted_minutes as double) as counted_minutes
    from scored

)

select * from final
