"""Who a person is to a channel: ``UserRef(channel, id)``, written ``channel:id`` wherever a person
is stored or passed along as text (sessions, applications, notices). Channels make one with
``UserRef(...)`` and read one back with ``UserRef.parse``; nothing splits the text by hand."""

from __future__ import annotations

from dataclasses import dataclass

WECHAT = "wechat"  # the official account (公众号): id = openid
MINIPROGRAM = "mp"  # the mini-program and 辽事通: id = openid (or unionid)
IVR = "ivr"  # the 12345 phone line: id = the calling number, digits only


@dataclass(frozen=True)
class UserRef:
    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"

    @classmethod
    def parse(cls, user: str) -> UserRef:
        channel, _, ident = user.partition(":")
        return cls(channel, ident)

    def on(self, channel: str) -> str | None:
        """The channel's own id of the person, when they are that channel's."""
        return self.id if self.channel == channel and self.id else None
