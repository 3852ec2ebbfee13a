"""Replies in the person's style. The engine says *what* (a choice, a field
prompt, the guide); this module picks the template and lays out the text."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import ModuleType

from bot.catalog.models import FieldType, FormField, OneThing
from bot.catalog.render import render_guide
from bot.dialogue.messages import (
    Choice,
    ChoicesReply,
    FieldPrompt,
    GuideCard,
    HandoffNotice,
    LinkReply,
    Reply,
    ReviewSummary,
    TextReply,
)
from bot.dialogue.session import Session
from bot.texts import texts_for

FORM_PAGE = "/pages/apply/index?thing={id}"  # the mini-program's form page (channels issue)
_GROUPS = re.compile(r"(\d{6})(\d{4})(\d{4})(\d{3}[\dX])")


_PREFILL_CLAIM = re.compile(
    r"[^，,；;。（）()]*(?:自动带出|自动查到)[^，,；;。（）()]*[，,；;。]?(?:请核对[，,；;。]?)?"
)


def asked_help(help_text: str) -> str:
    """A field's help as said when it is asked: a field asked was not prefilled, so its help does
    not say “系统会自动带出” (the help says it for when shared data fills it in)."""
    return _PREFILL_CLAIM.sub("", help_text).strip("，,；; ")


_DATE_SAID = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
AHEAD_DAYS = 14  # a date still to come, shown where the catalog's example has passed


def upcoming(f: FormField, text: str, today: date | None = None) -> str:
    """A date the field refuses as past (“预约领证日期 …可以说‘2026年5月20日’” read in December)
    shown two weeks ahead instead, so that the example given can be answered."""
    if f.type is not FieldType.date or not f.not_past:
        return text
    today = today or date.today()

    def ahead(m: re.Match[str]) -> str:
        try:
            said = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return m.group(0)
        if said >= today:
            return m.group(0)
        soon = today + timedelta(days=AHEAD_DAYS)
        return f"{soon.year}年{soon.month}月{soon.day}日"

    return _DATE_SAID.sub(ahead, text)


def amount_shown(value: float) -> str:
    """An amount as people write it: 50万元, 3000元, 1.5万元 (never 500000.0)."""
    if value >= 10_000 and (value / 10_000) * 100 == int((value / 10_000) * 100):
        return f"{value / 10_000:g}万元"
    return f"{value:g}元"


class Say:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.tx: ModuleType = texts_for(session.style)
        self.replies: list[Reply] = []

    @property
    def elderly(self) -> bool:
        return self.session.style in ("elderly", "voice")

    def text_reply(self, template: str, **values: object) -> TextReply:
        return TextReply(text=template.format(**values) if values else template)

    def text(self, template: str, **values: object) -> None:
        self.replies.append(TextReply(text=template.format(**values) if values else template))

    def choices(self, prompt: str, options: list[tuple[str, str]]) -> list[str]:
        """Numbered options; returns their payloads in order (what ``awaiting`` keeps)."""
        items = [Choice(n=n, label=label, payload=payload) for n, (payload, label) in enumerate(options, 1)]
        lines = [prompt, *(self.tx.CHOICE_LINE.format(n=c.n, label=c.label) for c in items)]
        if self.tx.CHOICE_HINT:
            lines.append(self.tx.CHOICE_HINT)
        self.replies.append(ChoicesReply(text="\n".join(lines), prompt=prompt, options=items))
        return [c.payload for c in items]

    def yes_no(self, prompt: str, labels: dict[str, str] | None = None) -> list[str]:
        labels = labels or self.tx.YES_NO_OPTIONS
        return self.choices(prompt, [("yes", labels["yes"]), ("no", labels["no"])])

    def guide(self, thing: OneThing, answers: dict[str, object]) -> None:
        body = self._short_guide(thing, answers) if self.elderly else render_guide(thing, answers, self.tx)
        title = self.tx.GUIDE_TITLE.format(name=thing.name)
        self.replies.append(GuideCard(text=body, thing_id=thing.id, title=title))

    def _short_guide(self, thing: OneThing, answers: dict[str, object]) -> str:
        from bot.catalog.render import material_group

        mine = [m for m in thing.materials if material_group(m) in ("applicant", "tolerable") and m.copies]
        lines = [self.tx.GUIDE_SHORT.format(name=thing.name)]
        lines += [self.tx.GUIDE_SHORT_LINE.format(n=n, name=m.name) for n, m in enumerate(mine, 1)]
        if not mine:
            lines.append(self.tx.GUIDE_SHORT_NONE)
        charged = any(i.guide.fee.charged for i in thing.items)
        lines.append(self.tx.GUIDE_SHORT_TAIL.format(free=self.tx.FEE_SOME if charged else self.tx.FEE_FREE))
        return "\n".join(lines)

    def field(self, f: FormField, problem: str | None = None) -> list[str]:
        tx = self.tx
        lines = [problem] if problem else []
        lines.append(tx.FIELD_ASK.format(label=f.label))
        help_text = upcoming(f, asked_help(f.help))
        if tx.FIELD_HELP and not self.elderly and help_text:
            lines[-1] += tx.FIELD_HELP.format(help=help_text)
        options: list[Choice] = []
        if f.type is FieldType.enum and f.options:
            options = [Choice(n=n, label=o, payload=o) for n, o in enumerate(f.options, 1)]
            lines += [tx.CHOICE_LINE.format(n=c.n, label=c.label) for c in options]
            if tx.CHOICE_HINT:
                lines.append(tx.CHOICE_HINT)
        elif f.type is FieldType.boolean:
            options = [Choice(n=1, label=tx.YES, payload="是"), Choice(n=2, label=tx.NO, payload="否")]
            lines += [tx.CHOICE_LINE.format(n=c.n, label=c.label) for c in options]
        else:
            lines.append(tx.FIELD_EXAMPLE.format(example=upcoming(f, f.example)))
        if not f.required:
            lines.append(tx.FIELD_OPTIONAL)
        self.replies.append(
            FieldPrompt(
                text="\n".join(lines),
                field_id=f.id,
                label=f.label,
                help=help_text,
                example=upcoming(f, f.example),
                optional=not f.required,
                options=options,
                file=f.type is FieldType.attachment,
                problem=problem,
            )
        )
        return [c.payload for c in options]

    def review(self, thing: OneThing, lines: list[tuple[str, str]], notes: list[str]) -> None:
        body = [self.tx.REVIEW_TITLE.format(name=thing.name)]
        body += [self.tx.FILLED_LINE.format(label=label, value=value) for label, value in lines]
        body += notes
        self.replies.append(ReviewSummary(text="\n".join(body), thing_id=thing.id, lines=lines))

    def form_link(self, thing: OneThing) -> None:
        """The same form as a mini-program page; never in 长辈模式 or by voice (no links there)."""
        if self.elderly:
            return
        title = self.tx.LINK_FORM_TITLE.format(name=thing.name)
        self.replies.append(
            LinkReply(text=self.tx.LINK_FORM.format(title=title), title=title, path=FORM_PAGE.format(id=thing.id))
        )

    def handoff(self, reason: str, template: str | None = None) -> None:
        self.replies.append(HandoffNotice(text=template or self.tx.HANDOFF, reason=reason))

    def finish(self) -> list[Reply]:
        """The turn's replies, with the style's footer on the last one."""
        if self.tx.FOOTER and self.replies:
            last = self.replies[-1]
            self.replies[-1] = last.model_copy(update={"text": f"{last.text}\n{self.tx.FOOTER}"})
        return self.replies


def spoken_groups(value: str) -> str:
    """An ID number read back in groups (region, year, date, rest): easier to check by ear."""
    m = _GROUPS.fullmatch(value)
    return " ".join(m.groups()) if m else value
