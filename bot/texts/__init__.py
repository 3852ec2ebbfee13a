"""Citizen-facing sentences, one module per style: ``standard`` (WeChat,
mini-program, web), ``elderly`` (长辈模式) and ``voice`` (the IVR). Logic never
holds a Chinese literal meant for a citizen: it names a template here."""

from __future__ import annotations

from types import ModuleType

from bot.texts import elderly, standard, voice

STYLES: dict[str, ModuleType] = {"standard": standard, "elderly": elderly, "voice": voice}


def texts_for(style: str) -> ModuleType:
    return STYLES.get(style, standard)
