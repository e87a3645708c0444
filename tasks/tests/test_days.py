"""A day's first instant in a time zone (tasks/days.py), which the due
filters and `ordering=due` read dates by, across daylight-saving changes."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from tasks.days import is_time_zone_name, last_day_started_by, start_of_day, time_zone_names
from testing.listing import first_instant


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Pinned from the zones' published rules, not computed.
DAY_STARTS = [
    pytest.param("UTC", date(2026, 3, 29), utc(2026, 3, 29), id="utc"),
    # Clocks go forward at 02:00: the day starts at midnight, an hour shorter.
    pytest.param("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 28, 23), id="berlin-spring"),
    pytest.param("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 24, 22), id="berlin-autumn"),
    # Forward at midnight: 00:00 does not exist, the day starts at 01:00 (-03).
    pytest.param("America/Santiago", date(2026, 9, 6), utc(2026, 9, 6, 4), id="santiago-gap-at-midnight"),
    # Back at midnight to 23:00 the evening before: the day starts at the second midnight.
    pytest.param("America/Santiago", date(2026, 4, 5), utc(2026, 4, 5, 4), id="santiago-back-at-midnight"),
    pytest.param("America/Havana", date(2026, 3, 8), utc(2026, 3, 8, 5), id="havana-gap-at-midnight"),
    # Back at 01:00 to 00:00: midnight happens twice, the day starts at the first.
    pytest.param("America/Havana", date(2026, 11, 1), utc(2026, 11, 1, 4), id="havana-midnight-twice"),
    # Samoa skipped 2011-12-30 whole: it counts as starting just before the 31st.
    pytest.param(
        "Pacific/Apia", date(2011, 12, 30), utc(2011, 12, 30, 10) - timedelta(microseconds=1), id="apia-skipped-day"
    ),
    pytest.param("Pacific/Apia", date(2011, 12, 31), utc(2011, 12, 30, 10), id="apia-day-after-the-skip"),
    pytest.param("Asia/Kolkata", date(2026, 1, 1), utc(2025, 12, 31, 18, 30), id="half-hour-offset"),
]


@pytest.mark.parametrize(("zone", "day", "expected"), DAY_STARTS)
def test_a_day_starts_at_its_first_instant_in_the_zone(zone: str, day: date, expected: datetime) -> None:
    assert start_of_day(day, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(("zone", "day", "expected"), DAY_STARTS)
def test_the_first_instant_agrees_with_a_minute_by_minute_search(zone: str, day: date, expected: datetime) -> None:
    assert first_instant(day, zone) == expected


def transition_days(zone: ZoneInfo, year: int) -> list[date]:
    """The days of `year` on which the zone's UTC offset changes, and the days around them."""
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        if (noon - timedelta(days=1)).astimezone(zone).utcoffset() != (noon + timedelta(days=1)).astimezone(
            zone
        ).utcoffset():
            days += [day - timedelta(days=1), day, day + timedelta(days=1)]
        day += timedelta(days=1)
    return sorted(set(days))


@pytest.mark.parametrize(
    "zone",
    ["America/Santiago", "America/Havana", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tehran", "America/St_Johns"],
)
@pytest.mark.parametrize("year", [1990, 2011, 2026])
def test_every_day_around_a_change_starts_where_the_search_finds_it(zone: str, year: int) -> None:
    days = transition_days(ZoneInfo(zone), year)

    assert [start_of_day(day, ZoneInfo(zone)) for day in days] == [first_instant(day, zone) for day in days]


@pytest.mark.parametrize("zone", ["America/Santiago", "America/Havana", "Pacific/Apia", "Europe/Berlin"])
def test_first_instants_strictly_increase_with_the_day(zone: str) -> None:
    starts = [start_of_day(date(2011, 1, 1) + timedelta(days=n), ZoneInfo(zone)) for n in range(800)]

    assert all(a < b for a, b in pairwise(starts))


@pytest.mark.parametrize(
    ("zone", "instant", "expected"),
    [
        ("UTC", utc(2026, 3, 29), date(2026, 3, 29)),
        ("UTC", utc(2026, 3, 29) - timedelta(microseconds=1), date(2026, 3, 28)),
        ("Europe/Berlin", utc(2026, 3, 28, 23), date(2026, 3, 29)),
        ("Europe/Berlin", utc(2026, 3, 28, 22, 59, 59), date(2026, 3, 28)),
        # Between Santiago's two midnights of 2026-04-04/05 the local date is the 4th again.
        ("America/Santiago", utc(2026, 4, 5, 3, 30), date(2026, 4, 4)),
        ("America/Santiago", utc(2026, 4, 5, 4), date(2026, 4, 5)),
        ("Pacific/Apia", utc(2011, 12, 30, 10) - timedelta(microseconds=1), date(2011, 12, 30)),
        ("Pacific/Apia", utc(2011, 12, 30, 10), date(2011, 12, 31)),
    ],
)
def test_the_last_day_started_by_an_instant(zone: str, instant: datetime, expected: date) -> None:
    assert last_day_started_by(instant, ZoneInfo(zone)) == expected


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Santiago", "Etc/GMT+5", "Asia/Kolkata"])
def test_iana_names_are_time_zones(name: str) -> None:
    assert is_time_zone_name(name)


@pytest.mark.parametrize(
    "name", ["", "utc", "europe/berlin", "Europe/berlin", "localtime", "Mars/Olympus", "../etc/passwd", "+02:00"]
)
def test_other_names_are_not(name: str) -> None:
    assert not is_time_zone_name(name)


def test_the_names_are_the_iana_database() -> None:
    assert len(time_zone_names()) > 400
    assert all(ZoneInfo(name) for name in ["UTC", *sorted(time_zone_names())[:20]])
