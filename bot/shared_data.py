"""What the e-license / data-sharing service tells about a person, as the
dialogue uses it (the client is ``integrations/elicense.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SharedDataUnavailable(Exception):
    pass


@dataclass(frozen=True)
class SharedRecord:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    licenses: frozenset[str] = frozenset()
    false_commitment: bool = False

    def value(self, path: str) -> Any:
        """``source.attribute`` as written in a form field's ``prefill``."""
        source, _, attribute = path.partition(".")
        return self.records.get(source, {}).get(attribute)

    def provides(self, license_name: str, source: str | None) -> bool:
        """Whether a 免提交 material is really on file for this person."""
        return license_name in self.licenses or (source is not None and source in self.records)
