"""The admins' dashboard: figures over the last N days (Beijing days), from the
conversation counters (Redis) and what the database records (applications and
their items, notification deliveries, dead letters, handovers, ratings).

Everything is counted where it happens once: conversations, one-things asked,
the funnel's first steps and the questions people reached from the counters;
submissions, 办结, deliveries and ratings from their tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.analytics.counters import BEIJING, Counters, today
from bot.applications.ratings import BAD, LEVELS, Ratings
from bot.catalog import Catalog
from bot.db.schema import application_items, applications, handovers, notification_deliveries, outbox, ratings

FINAL = ("已办结", "不予受理")
CHANNEL_NAMES = {"subscribe": "小程序订阅消息", "template": "公众号模板消息", "cs": "公众号客服消息",
                 "call": "12345 语音电话", "sms": "12345 短信"}  # fmt: skip


def _day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(BEIJING).date()


class Dashboard:
    def __init__(self, counters: Counters, engine: AsyncEngine, catalog: Catalog, ratings: Ratings) -> None:
        self.counters = counters
        self.engine = engine
        self.catalog = catalog
        self.ratings = ratings

    async def figures(self, days: int = 30, thing: str | None = None) -> dict[str, Any]:
        last = today()
        first = last - timedelta(days=days - 1)
        since = datetime.combine(first, time.min, BEIJING).astimezone(UTC)
        counted = await self.counters.days(first, last)
        people = await self.counters.people(first, last)
        totals: Counter[str] = Counter()
        for row in counted.values():
            totals.update(row)
        submitted, finished = await self._applications(since)
        per_day = []
        for day in counted:
            row = counted[day]
            per_day.append(
                {
                    "day": day.isoformat(),
                    "conversations": people[day],
                    "turns": row.get("turn", 0),
                    "fallbacks": row.get("fallback", 0),
                    "handoffs": sum(v for k, v in row.items() if k.startswith("handoff:")),
                    "submissions": sum(submitted.get(day, {}).values()),
                    "finished": sum(finished.get(day, {}).values()),
                }
            )
        asked = self._things(totals)
        focus = thing if thing in self.catalog.things else (asked[0]["thing"] if asked else None)
        turns = sum(d["turns"] for d in per_day)
        conversations = sum(d["conversations"] for d in per_day)
        handoffs = sum(d["handoffs"] for d in per_day)
        return {
            "days": days,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "per_day": per_day,
            "things": asked,
            "funnel": self._funnel(totals, submitted, finished, focus),
            "rates": {
                "turns": turns,
                "conversations": conversations,
                "fallback": round(sum(d["fallbacks"] for d in per_day) / turns, 4) if turns else 0.0,
                "handoff": round(handoffs / conversations, 4) if conversations else 0.0,
                "handoff_reasons": {
                    k.removeprefix("handoff:"): v for k, v in sorted(totals.items()) if k.startswith("handoff:")
                },
            },
            "notifications": await self._deliveries(since),
            "ratings": await self._ratings(since),
            "handovers": await self._handovers(since),
        }

    def _things(self, totals: Counter[str]) -> list[dict[str, Any]]:
        out = []
        for key, count in totals.items():
            if key.startswith("identified:"):
                thing_id = key.removeprefix("identified:")
                t = self.catalog.get(thing_id)
                out.append({"thing": thing_id, "name": t.name if t else thing_id, "count": count})
        return sorted(out, key=lambda r: (-r["count"], r["thing"]))

    def _funnel(
        self,
        totals: Counter[str],
        submitted: dict[date, Counter[str]],
        finished: dict[date, Counter[str]],
        thing: str | None,
    ) -> dict[str, Any]:
        """identified → guide read → form started → submitted → 办结, for one one-thing or all, and
        the question of that one-thing after which most people went no further."""

        def total(prefix: str) -> int:
            if thing is not None:
                return totals.get(f"{prefix}:{thing}", 0)
            return sum(v for k, v in totals.items() if k.startswith(prefix + ":"))

        def counted(by_day: dict[date, Counter[str]]) -> int:
            return sum(c.get(thing, 0) if thing else sum(c.values()) for c in by_day.values())

        steps = [
            {"step": "identified", "label": "识别出事项", "count": total("identified")},
            {"step": "guide", "label": "阅读办事指南", "count": total("guide")},
            {"step": "started", "label": "开始填表", "count": total("started")},
            {"step": "submitted", "label": "提交申请", "count": counted(submitted)},
            {"step": "finished", "label": "办结", "count": counted(finished)},
        ]
        out: dict[str, Any] = {"thing": thing, "steps": steps, "fields": [], "gave_up_at": None}
        t = self.catalog.get(thing) if thing else None
        if t is None:
            return out
        fields = [
            {"field": f.id, "label": f.label, "reached": totals.get(f"reached:{t.id}:{f.id}", 0)}
            for f in t.form.fields
            if totals.get(f"reached:{t.id}:{f.id}", 0)
        ]
        out["fields"] = fields
        if not fields:
            return out  # nobody has reached a question of this form in the period
        # the biggest drop from one question reached to the next (the last: to submitting)
        nexts = [f["reached"] for f in fields[1:]] + [steps[3]["count"]]
        drops = [(f["reached"] - n, f) for f, n in zip(fields, nexts, strict=True)]
        worst = max(drops, key=lambda d: d[0], default=None)
        if worst is not None and worst[0] > 0:
            out["gave_up_at"] = {"field": worst[1]["field"], "label": worst[1]["label"], "left": worst[0]}
        return out

    async def _applications(self, since: datetime) -> tuple[dict[date, Counter[str]], dict[date, Counter[str]]]:
        """Submissions by day and one-thing; and 办结 (every item decided) by the day the last one was."""
        submitted: dict[date, Counter[str]] = defaultdict(Counter)
        finished: dict[date, Counter[str]] = defaultdict(Counter)
        decided = func.sum(case((application_items.c.status.in_(FINAL), 1), else_=0))
        async with self.engine.connect() as conn:
            for r in await conn.execute(
                select(applications.c.thing_id, applications.c.created_at).where(applications.c.created_at >= since)
            ):
                submitted[_day(r.created_at)][r.thing_id] += 1
            done = (
                select(
                    applications.c.thing_id,
                    func.max(application_items.c.updated_at).label("at"),
                )
                .join(application_items, application_items.c.application_id == applications.c.id)
                .group_by(applications.c.id, applications.c.thing_id)
                .having(func.count() == decided)
                .having(func.max(application_items.c.updated_at) >= since)
            )
            for r in await conn.execute(done):
                finished[_day(r.at)][r.thing_id] += 1
        return submitted, finished

    async def _deliveries(self, since: datetime) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(notification_deliveries.c.channel, notification_deliveries.c.outcome, func.count())
                .where(notification_deliveries.c.at >= since)
                .group_by(notification_deliveries.c.channel, notification_deliveries.c.outcome)
            )
            by_channel: dict[str, dict[str, int]] = defaultdict(dict)
            for channel, outcome, count in rows:
                by_channel[channel][outcome] = int(count)
            dead = (
                await conn.execute(
                    select(func.count()).where(outbox.c.dead_at.is_not(None), outbox.c.delivered_at.is_(None))
                )
            ).scalar_one()
        channels = [
            {"channel": c, "label": CHANNEL_NAMES.get(c, c), **{o: by_channel[c].get(o, 0) for o in OUTCOMES}}
            for c in CHANNEL_NAMES
            if c in by_channel
        ]
        return {"channels": channels, "dead_letters": int(dead)}

    async def _ratings(self, since: datetime) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ratings.c.score, func.count()).where(ratings.c.created_at >= since).group_by(ratings.c.score)
            )
            counts = {int(score): int(n) for score, n in rows}
        bad = [r for r in await self.ratings.recent(limit=200) if r["bad"]]
        return {
            "levels": [
                {"score": s, "level": LEVELS[s], "count": counts.get(s, 0)} for s in sorted(LEVELS, reverse=True)
            ],
            "bad": bad[:50],
            "bad_total": sum(n for s, n in counts.items() if s <= BAD),
        }

    async def _handovers(self, since: datetime) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(handovers.c.status, func.count())
                .where(handovers.c.created_at >= since)
                .group_by(handovers.c.status)
            )
            return {str(status): int(n) for status, n in rows}


OUTCOMES = ("sent", "refused", "failed", "trying")
