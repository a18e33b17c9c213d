"""Distances and bearings on the WGS84 ellipsoid.

Walking legs are short, so a local flat frame scaled by the ellipsoid's radii of curvature at the
leg's latitude (Mapbox's "cheap ruler") is as exact as Vincenty's geodesic to well under a
millimetre per hundred metres, and cheap enough to run on every segment of a city.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import numpy.typing as npt

WGS84_A = 6378137.0
"""Semi-major axis (m)."""
WGS84_F = 1 / 298.257223563
"""Flattening."""
WGS84_B = WGS84_A * (1 - WGS84_F)
_E2 = WGS84_F * (2 - WGS84_F)
_M_PER_DEG = math.pi / 180 * WGS84_A

Floats = npt.NDArray[np.float64]
T = TypeVar("T", float, Floats)


def ruler_factors(lat_deg: T) -> tuple[T, T]:
    """Metres per degree of longitude and of latitude at a latitude (exact at that latitude)."""
    cos_lat = np.cos(np.radians(lat_deg))
    w2 = 1 / (1 - _E2 * (1 - cos_lat * cos_lat))
    w = np.sqrt(w2)
    kx = _M_PER_DEG * w * cos_lat
    ky = _M_PER_DEG * w * w2 * (1 - _E2)
    if isinstance(lat_deg, np.ndarray):
        return kx, ky
    return float(kx), float(ky)


def _wrap_degrees(delta: T) -> T:
    return (delta + 180.0) % 360.0 - 180.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance between two nearby points (a walk's segments; good to 0.01 % up to ~50 km)."""
    kx, ky = ruler_factors((lat1 + lat2) / 2)
    return math.hypot(_wrap_degrees(lon2 - lon1) * kx, (lat2 - lat1) * ky)


def distances_m(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> Floats:
    """`distance_m` for arrays of point pairs."""
    kx, ky = ruler_factors((lat1 + lat2) / 2)
    result: Floats = np.hypot(_wrap_degrees(lon2 - lon1) * kx, (lat2 - lat1) * ky)
    return result


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, degrees clockwise from north."""
    kx, ky = ruler_factors((lat1 + lat2) / 2)
    east = _wrap_degrees(lon2 - lon1) * kx
    north = (lat2 - lat1) * ky
    return math.degrees(math.atan2(east, north)) % 360.0


def nearest_on_segment(
    lat: float, lon: float, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The point of segment a-b nearest to (lat, lon): (fraction along, lat, lon, distance m)."""
    kx, ky = ruler_factors(lat)
    ax, ay = _wrap_degrees(a[1] - lon) * kx, (a[0] - lat) * ky
    bx, by = _wrap_degrees(b[1] - lon) * kx, (b[0] - lat) * ky
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / length2))
    px, py = ax + t * dx, ay + t * dy
    return t, a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), math.hypot(px, py)


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Vincenty's inverse formula: the ellipsoidal distance at any range (to 0.1 mm).

    Used where legs are long (straight-line estimates across a country) and to check the ruler.
    """
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    f = WGS84_F
    big_l = math.radians(_wrap_degrees(lon2 - lon1))
    u1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha * sin_alpha
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * f * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm * cos_2sm))
        )
        if abs(lam - previous) < 1e-12:
            break
    else:
        raise ValueError("Vincenty's formula does not converge for nearly antipodal points")
    u_sq = cos2_alpha * (WGS84_A**2 - WGS84_B**2) / WGS84_B**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = (
        big_b
        * sin_sigma
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )
    return WGS84_B * big_a * (sigma - delta_sigma)
