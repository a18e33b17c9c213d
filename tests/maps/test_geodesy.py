"""Distances on the WGS84 ellipsoid against published values."""

from __future__ import annotations

import pytest

from oculi.services.maps.geodesy import bearing_deg, distance_m, geodesic_m, nearest_on_segment


def _dms(degrees: int, minutes: int, seconds: float) -> float:
    sign = -1 if degrees < 0 else 1
    return sign * (abs(degrees) + minutes / 60 + seconds / 3600)


def test_vincenty_matches_the_flinders_peak_to_buninyong_geodesic() -> None:
    flinders = (_dms(-37, 57, 3.72030), _dms(144, 25, 29.52440))
    buninyong = (_dms(-37, 39, 10.15610), _dms(143, 55, 35.38390))
    assert geodesic_m(*flinders, *buninyong) == pytest.approx(54972.271, abs=0.001)


def test_one_degree_on_the_equator_and_along_a_meridian() -> None:
    assert distance_m(0, 0, 0, 1) == pytest.approx(111319.491, abs=0.01)
    assert geodesic_m(0, 0, 1, 0) == pytest.approx(110574.389, abs=0.01)


@pytest.mark.parametrize("lat", [0.0, 43.73, 60.17, 78.2])
@pytest.mark.parametrize("span", [0.0005, 0.01, 0.05])
def test_the_ruler_agrees_with_the_geodesic_on_walking_distances(lat: float, span: float) -> None:
    exact = geodesic_m(lat, 7.0, lat + span, 7.0 + span)
    assert distance_m(lat, 7.0, lat + span, 7.0 + span) == pytest.approx(exact, rel=1e-6)


def test_bearings_point_the_right_way() -> None:
    assert bearing_deg(43.7, 7.4, 43.71, 7.4) == pytest.approx(0.0, abs=1e-9)
    assert bearing_deg(43.7, 7.4, 43.7, 7.41) == pytest.approx(90.0, abs=1e-9)
    assert bearing_deg(43.7, 7.4, 43.69, 7.4) == pytest.approx(180.0, abs=1e-9)


def test_nearest_point_of_a_segment_is_the_foot_of_the_perpendicular() -> None:
    t, lat, lon, off = nearest_on_segment(60.0005, 25.001, (60.0, 25.0), (60.0, 25.002))
    assert t == pytest.approx(0.5)
    assert (lat, lon) == pytest.approx((60.0, 25.001))
    assert off == pytest.approx(geodesic_m(60.0005, 25.001, 60.0, 25.001), rel=1e-6)
