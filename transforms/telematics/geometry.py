"""Spherical and planar geometry as Spark column expressions (no Python UDFs).

Coordinates are degrees (lon, lat). Distances are km on a sphere of radius ``earth_radius_km``.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def haversine_km(
    lat1: Column, lon1: Column, lat2: Column, lon2: Column, radius_km: float
) -> Column:
    """Great-circle distance (the same formula as the dbt macro ``haversine_km``)."""
    a = F.pow(F.sin(F.radians(lat2 - lat1) / 2), 2) + F.cos(F.radians(lat1)) * F.cos(
        F.radians(lat2)
    ) * F.pow(F.sin(F.radians(lon2 - lon1) / 2), 2)
    return 2 * F.lit(radius_km) * F.asin(F.sqrt(a))


def point_segment_km(
    lon: Column,
    lat: Column,
    lon_a: Column,
    lat_a: Column,
    lon_b: Column,
    lat_b: Column,
    radius_km: float,
) -> Column:
    """Distance from a point to the segment A–B, km.

    Equirectangular projection around the point (x = Δlon·cos(lat)·R·π/180, y = Δlat·R·π/180);
    the projection parameter onto A–B is clamped to [0, 1]; a degenerate segment is its point A.
    """
    km_per_deg = radius_km * 3.141592653589793 / 180.0
    cos_lat = F.cos(F.radians(lat))
    ax = (lon_a - lon) * cos_lat * km_per_deg
    ay = (lat_a - lat) * km_per_deg
    dx = (lon_b - lon) * cos_lat * km_per_deg - ax
    dy = (lat_b - lat) * km_per_deg - ay
    length2 = dx * dx + dy * dy
    # null denominator for a degenerate segment (the engine raises on division by zero)
    t = -(ax * dx + ay * dy) / F.when(length2 > 0, length2)
    t = F.coalesce(F.least(F.greatest(t, F.lit(0.0)), F.lit(1.0)), F.lit(0.0))
    cx = ax + t * dx
    cy = ay + t * dy
    return F.sqrt(cx * cx + cy * cy)


def ray_crosses(
    lon: Column, lat: Column, lon_i: Column, lat_i: Column, lon_j: Column, lat_j: Column
) -> Column:
    """True when a ray from the point towards +lon crosses the edge i–j (ray casting)."""
    straddles = (lat_i > lat) != (lat_j > lat)
    x_cross = (lon_j - lon_i) * (lat - lat_i) / F.when(lat_j != lat_i, lat_j - lat_i) + lon_i
    return F.coalesce(straddles & (lon < x_cross), F.lit(False))
