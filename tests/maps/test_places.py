"""Finding places by name offline: exact, without accents, misspelt, by kind, nearest first."""

from __future__ import annotations

import pytest

from oculi.errors import MapError
from oculi.services.maps.osm import RawPlace
from oculi.services.maps.places import Gazetteer
from oculi.services.maps.walkmap import WalkMap

PLACES = [
    RawPlace("Musée des Beaux-Arts", "tourism museum", 60.0, 25.0),
    RawPlace("Gare Centrale", "railway station", 60.01, 25.0),
    RawPlace("Caserne Nord", "amenity fire station", 60.001, 25.0),
    RawPlace("Station Service Avia", "amenity fuel", 60.002, 25.0),
    RawPlace("Pharmacie du Port", "amenity pharmacy", 60.02, 25.0),
    RawPlace("Pharmacie Centrale", "amenity pharmacy", 60.003, 25.0),
    RawPlace("Rue Grimaldi", "street", 60.004, 25.001),
    RawPlace("Kaivopiha", "place square", 60.005, 25.0, aliases="Brunnsgården"),
]


@pytest.fixture
def gazetteer() -> Gazetteer:
    return Gazetteer(PLACES)


def test_exact_name(gazetteer: Gazetteer) -> None:
    assert gazetteer.geocode("Rue Grimaldi").name == "Rue Grimaldi"


def test_accents_do_not_matter(gazetteer: Gazetteer) -> None:
    assert gazetteer.geocode("musee des beaux arts").name == "Musée des Beaux-Arts"


def test_a_misspelt_name_is_still_found(gazetteer: Gazetteer) -> None:
    assert gazetteer.geocode("rue grimaldy").name == "Rue Grimaldi"
    assert gazetteer.geocode("pharmacie du prot").name == "Pharmacie du Port"


def test_other_names_are_searched(gazetteer: Gazetteer) -> None:
    assert gazetteer.geocode("Brunnsgarden").name == "Kaivopiha"


def test_the_station_is_the_railway_station_not_a_fire_or_fuel_station(
    gazetteer: Gazetteer,
) -> None:
    assert gazetteer.geocode("take me to the station", near=(60.0, 25.0)).name == "Gare Centrale"
    assert gazetteer.geocode("the train station").name == "Gare Centrale"


def test_a_kind_of_place_finds_the_nearest_one(gazetteer: Gazetteer) -> None:
    assert gazetteer.geocode("pharmacy", near=(60.0, 25.0)).name == "Pharmacie Centrale"
    assert gazetteer.geocode("pharmacy", near=(60.025, 25.0)).name == "Pharmacie du Port"


def test_a_place_not_on_the_map_is_an_error(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("zoo of atlantis") == []
    with pytest.raises(MapError, match="can't find"):
        gazetteer.geocode("xyzzy")
    with pytest.raises(MapError):
        gazetteer.geocode("the")


def test_monaco_places_from_the_map_itself(monaco: WalkMap) -> None:
    assert monaco.geocode("Musée Océanographique").category == "tourism museum"
    assert monaco.geocode("oceanographic museum").name == "Musée Océanographique"
    station = monaco.geocode("the station", near=(43.7310, 7.4190))
    assert station.category == "railway station"
    assert monaco.geocode("Rue Grimaldi", near=(43.7310, 7.4190)).distance_m < 1000
