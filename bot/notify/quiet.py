"""Quiet hours: a non-urgent push waits until morning (the inbox has it at once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)
    tz: ZoneInfo = CHINA

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """ "21:00-08:00" → quiet from 21:00 to 08:00 local; "" → never quiet."""
        if not spec.strip():
            return None
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-", 1))
        return cls(start, end)

    def until(self, now: datetime) -> datetime | None:
        """The end of the quiet period ``now`` falls in, or None when it is not quiet."""
        local = now.astimezone(self.tz)
        t = local.time()
        inside = (self.start <= t or t < self.end) if self.start > self.end else (self.start <= t < self.end)
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)  # stored as UTC: SQLite keeps a datetime's wall time, not its zone
