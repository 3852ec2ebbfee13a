"""Voice (12345 IVR and voice input): like 长辈模式, read aloud: numbers said
one by one, no symbols. Whatever is not redefined reads as in the elderly style."""

from bot.texts.elderly import *  # noqa: F403

CHOICE_LINE = "{label}请按{n}"
CHOICE_HINT = ""
FOOTER = "转人工请按0，再听一遍请按9。"
FILLED_LINE = "{label}，{value}"
