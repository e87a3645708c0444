"""Calendar days in a caller's time zone, as instants.

A day does not always start at 00:00: where a daylight-saving change skips
midnight (America/Santiago, America/Havana), the day starts when the skipped
hour ends. Everything here works on the instants a zone's rules give, from
the IANA database through zoneinfo. (docs/decisions/list-keyset-pagination.md)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Names zoneinfo finds on some systems that are not IANA time zones: Debian's
# /usr/share/zoneinfo/localtime is the machine's own zone under another name.
NOT_IANA_NAMES = frozenset({"localtime", "posixrules"})
ONE_DAY = timedelta(days=1)


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA time zone name, exactly as spelled in the database."""
    return frozenset(available_timezones()) - NOT_IANA_NAMES


def is_time_zone_name(name: str) -> bool:
    return name in time_zone_names()


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) of `day` in `zone`.

    Local midnight when it exists (the earlier one when a change repeats it);
    when a change skips it, the instant the skipped interval ends, which is
    the first instant whose local time is past midnight. A day the zone
    skipped whole (Pacific/Apia's 2011-12-30) has no instant of its own: it
    counts as starting a microsecond before the next day, which keeps the
    first instant strictly increasing with the day.
    """
    midnight = datetime.combine(day, time.min)
    earlier = midnight.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local(earlier, zone) == midnight:
        return earlier
    # Midnight is in a gap: fold=1 reads it with the offset after the change,
    # which puts it before the gap, fold=0 with the offset before, after it.
    # The day starts at the change, somewhere in between: transitions fall on
    # whole seconds, so a bisection over seconds finds it exactly.
    low = midnight.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(low, earlier), max(low, earlier)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if _local(middle, zone) >= midnight:
            high = middle
        else:
            low = middle
    if _local(high, zone).date() != day:
        return high - timedelta(microseconds=1)
    return high


def last_day_started_by(instant: datetime, zone: ZoneInfo) -> date:
    """The latest day whose first instant in `zone` is at or before `instant`.

    Usually the local date of `instant`; not always, where a change moves the
    clock back across midnight and the local date goes back with it.
    """
    day = instant.astimezone(zone).date()
    while day < date.max and start_of_day(day + ONE_DAY, zone) <= instant:
        day += ONE_DAY
    while start_of_day(day, zone) > instant:
        day -= ONE_DAY
    return day


def today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
