"""iCalendar (.ics) export shared by the checklist and the task planner.

Each entry becomes an all-day VEVENT with a stable UID (derived from a key, so
re-importing an updated file replaces events instead of duplicating them) and a
VALARM that fires at 09:00 local time ``alarm_days_before`` + 1 days before the
event — i.e. the day before the earliest preparation step.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

from icalendar import Alarm, Calendar, Event

__all__ = ["CalendarEntry", "build_calendar", "write_ics", "stable_uid", "alarm_trigger"]

PRODID = "-//dangwu-assistant//党务助手//ZH"
UID_DOMAIN = "dangwu-assistant.local"
ALARM_HOUR = 9  # reminders fire at 09:00 on the day before the earliest preparation step


@dataclass(frozen=True)
class CalendarEntry:
    """One all-day event.

    ``key`` must be stable for the same event (e.g. ``checklist:zhiweihui:2027-03-08``);
    ``alarm_days_before`` is the offset of the earliest preparation step (0 when none).
    """

    key: str
    summary: str
    day: date
    description: str = ""
    alarm_days_before: int = 0
    categories: tuple[str, ...] = ()


def stable_uid(key: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    return f"{digest}@{UID_DOMAIN}"


def alarm_trigger(alarm_days_before: int) -> timedelta:
    """Offset from the event's start (00:00) to 09:00 on the day before the earliest prep step."""
    if alarm_days_before < 0:
        raise ValueError(f"alarm_days_before 不能为负数：{alarm_days_before}")
    return -timedelta(days=alarm_days_before + 1) + timedelta(hours=ALARM_HOUR)


def build_calendar(entries: Iterable[CalendarEntry], name: str, stamp: datetime | None = None) -> Calendar:
    """A Calendar with one VEVENT (+ VALARM) per entry, in date order."""
    stamp = stamp or datetime.now(timezone.utc).replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for entry in sorted(entries, key=lambda e: (e.day, e.key)):
        ev = Event()
        ev.add("uid", stable_uid(entry.key))
        ev.add("dtstamp", stamp)
        ev.add("summary", entry.summary)
        ev.add("dtstart", entry.day)
        ev.add("dtend", entry.day + timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        if entry.description:
            ev.add("description", entry.description)
        if entry.categories:
            ev.add("categories", list(entry.categories))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"提醒：{entry.summary}")
        alarm.add("trigger", alarm_trigger(entry.alarm_days_before))
        ev.add_component(alarm)
        cal.add_component(ev)
    return cal


def write_ics(entries: Iterable[CalendarEntry], path: Path, name: str, stamp: datetime | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_calendar(entries, name, stamp).to_ical())
    return path
