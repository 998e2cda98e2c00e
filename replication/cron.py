"""Cron schedules: checking an expression, its next times in a time zone, the expression
in words, and what a scheduler does with the due times it finds (`plan`).

Times are computed by cronsim (healthchecks' cron library: Debian cron's semantics,
including its daylight-saving rules: a time that does not exist on the day clocks go
forward runs at the first minute that does, a time that happens twice runs once).
The words come from cron-descriptor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cron_descriptor import ExpressionDescriptor, Options
from cronsim import CronSim, CronSimError

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
# Past this many missed due times the scheduler stops counting them (a year of minutes is 525,600).
COUNT_MAX = 10_000
_TICK = timedelta(microseconds=1)


class CronError(ValueError):
    """An expression or time zone that cannot be used; the message is one line for the user."""


def check(expression: str) -> str:
    """The expression with its fields separated by one space; CronError when it is not a
    5-field cron expression cronsim can run."""
    fields = str(expression).split()
    if len(fields) != len(FIELDS):
        raise CronError(
            f"cron `{expression}` has {len(fields)} field{'s' if len(fields) != 1 else ''}; "
            "expected 5: minute hour day-of-month month day-of-week (e.g. `*/15 * * * *`)"
        )
    normal = " ".join(fields)
    try:
        CronSim(normal, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise CronError(f"cron `{normal}`: {_explain(normal, str(exc))}") from None
    return normal


def _explain(expression: str, message: str) -> str:
    """cronsim says "Bad minute"; say which field and what it allows."""
    allowed = {
        "minute": "0-59",
        "hour": "0-23",
        "day-of-month": "1-31",
        "month": "1-12 or JAN-DEC",
        "day-of-week": "0-7 or SUN-SAT",
    }
    fields = expression.split()
    if message == "Bad day-of-month" and _parses(" ".join([*fields[:3], "*", fields[4]])):
        return f"day of month `{fields[2]}` never comes in month `{fields[3]}`"
    for index, (name, values) in enumerate(allowed.items()):
        if message == f"Bad {name}":
            field = fields[index]
            return f"bad {name.replace('-', ' ')} `{field}` (allowed: {values}, *, lists, ranges, steps)"
    return message


def _parses(expression: str) -> bool:
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError:
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; CronError when there is none of that name."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CronError(
            f"unknown time zone `{name}`: use an IANA name such as UTC or Europe/Berlin"
        ) from None


@cache
def zone_names() -> list[str]:
    """Every IANA time zone name this machine knows, sorted."""
    return sorted(available_timezones())


def describe(expression: str) -> str:
    """The expression in words ("Every 5 minutes", "At 06:00, Monday through Friday")."""
    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(expression, options).get_description()
    except Exception:  # cron-descriptor does not know every cronsim form (`L`, `#`): cronsim's own words
        return CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC)).explain()


def next_times(expression: str, tz: str, *, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` due times strictly after `after`, in the time zone `tz`."""
    start = after.astimezone(zone(tz))
    return list(islice(CronSim(expression, start), count))


def next_after(expression: str, tz: str, moment: datetime) -> datetime:
    """The first due time strictly after `moment`, in UTC."""
    return next_times(expression, tz, after=moment, count=1)[0].astimezone(UTC)


def last_until(expression: str, tz: str, moment: datetime) -> datetime:
    """The latest due time at or before `moment`, in UTC."""
    start = (moment + _TICK).astimezone(zone(tz))
    return next(CronSim(expression, start, reverse=True)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Missed:
    first: datetime
    last: datetime
    count: int  # COUNT_MAX means "at least"


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with a schedule found due: run `fire` (or nothing), record `missed`,
    and wait for `next_fire`."""

    fire: datetime | None
    missed: Missed | None
    next_fire: datetime


def plan(expression: str, tz: str, *, due: datetime, now: datetime, grace: timedelta) -> Plan:
    """A schedule's due times from `due` (its stored next fire) to `now`: the latest one
    runs if it is at most `grace` old; every other one is missed. Never more than one run,
    however long the scheduler was away."""
    next_fire = next_after(expression, tz, now)
    if due > now:
        return Plan(None, None, due)
    latest = last_until(expression, tz, now)
    fire = latest if latest >= due and now - latest <= grace else None
    first = last = None
    count = 0
    for moment in CronSim(expression, (due - _TICK).astimezone(zone(tz))):
        moment = moment.astimezone(UTC)
        if moment > latest or (moment == latest and fire is not None) or count == COUNT_MAX:
            break
        first, last, count = first or moment, moment, count + 1
    if first is None or last is None:
        return Plan(fire, None, next_fire)
    return Plan(fire, Missed(first, last, count), next_fire)
