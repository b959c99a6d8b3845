"""The choices that shape one ingest; saved with the dataset so it can be reproduced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dealscope.ingest.parse_dates import DEFAULT_TIMEZONE
from dealscope.ingest.validate import DEFAULT_DUPLICATE_POLICY


@dataclass
class IngestSettings:
    """Options of one ingest (all optional). `mapping` is {file name or "*": {source: target}};
    `layouts`, `sheets` and `encodings` are per file name; `stages` rows are {stage, position,
    kind} chosen by the user."""

    timezone: str = DEFAULT_TIMEZONE
    day_first: bool | None = None
    decimal: str | None = None
    duplicate_policy: str = DEFAULT_DUPLICATE_POLICY
    mapping: dict[str, dict[str, str | None]] = field(default_factory=dict)
    layouts: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    stages: list[dict] | None = None
    # I5: map traditional to simplified Chinese in name/category columns (variants.py); opt-in.
    traditional_to_simplified: bool = False
    now: str | None = None  # ISO time used for the future-date check (default: ingest time)
    # Status or stage values the user assigned to an outcome ({"Gagné": "won"}): these win over
    # the built-in vocabulary, for status words and for stage kinds alike.
    status_values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: dict) -> IngestSettings:
        known = {k: v for k, v in document.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def mapping_for(self, filename: str) -> dict[str, str | None]:
        """The user's mapping for one file: its own entry over the "*" default."""
        return {**self.mapping.get("*", {}), **self.mapping.get(filename, {})}
