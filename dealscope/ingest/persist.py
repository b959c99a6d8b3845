"""Store an ingest result as a new dataset version (one transaction) and save/load mappings."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine

from dealscope import store
from dealscope.ingest.errors import MappingError, NoDataError
from dealscope.ingest.pipeline import IngestResult
from dealscope.ingest.settings import IngestSettings


def save_result(
    engine: Engine, name: str, result: IngestResult, saved_by: str | None = None
) -> int:
    """Write the result as a new version of dataset `name` (recording who saved it); refuses when
    nothing was loaded."""
    if result.opportunities.empty:
        counts = result.counts
        raise NoDataError(
            key="errors.ingest.nothing_loaded",
            rows_in=counts["rows_in"],
            rejected=counts["rows_rejected"],
            excluded=counts["rows_excluded"],
        )
    return store.write_dataset(
        engine,
        name,
        result.opportunities,
        result.stage_events,
        result.stages,
        source_files=[f.to_dict() for f in result.files],
        mapping=result.mapping,
        settings=result.settings.to_dict() | {"unknown_stages": result.unknown_stages},
        counts=result.counts,
        saved_by=saved_by,
    )


def mapping_document(result: IngestResult) -> dict:
    """The JSON document `--mapping` reads: per-file layout and columns, settings, stages."""
    settings = result.settings.to_dict()
    settings["stages"] = result.stages.astype({"position": int}).to_dict("records")
    for key in ("mapping", "layouts", "now"):
        settings.pop(key, None)
    return {"version": 1, "files": result.mapping, "settings": settings}


# The JSON kind each saved setting must have (None is allowed where the default is None).
_SETTING_KINDS = {"timezone": str, "day_first": bool, "decimal": str, "duplicate_policy": str,
                  "mapping": dict, "layouts": dict, "sheets": dict, "encodings": dict,
                  "stages": list, "traditional_to_simplified": bool, "now": str}  # fmt: skip


def _check_setting_kinds(given: dict) -> None:
    nullable = {k for k, v in IngestSettings().to_dict().items() if v is None}
    for key, value in given.items():
        kind = _SETTING_KINDS.get(key)
        if kind is None or (value is None and key in nullable) or isinstance(value, kind):
            continue
        raise MappingError(
            key="errors.mapping.setting_kind",
            setting=key,
            expected=kind.__name__,
            actual=type(value).__name__,
        )
    for row in given.get("stages") or []:
        if not isinstance(row, dict):
            raise MappingError(key="errors.mapping.stages_not_objects")


def settings_from_mapping(document: dict, base: IngestSettings | None = None) -> IngestSettings:
    """Settings with a saved mapping document applied (file names or "*" as keys)."""
    if not isinstance(document, dict) or not isinstance(document.get("files", {}), dict):
        raise MappingError(key="errors.mapping.not_object")
    if not isinstance(document.get("settings", {}), dict):
        raise MappingError(key="errors.mapping.settings_not_object")
    given = {
        k: v
        for k, v in document.get("settings", {}).items()
        if k in IngestSettings.__dataclass_fields__
    }
    _check_setting_kinds(given)
    merged = (base or IngestSettings()).to_dict() | given
    try:
        settings = IngestSettings.from_dict(merged)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a value of the wrong kind
        raise MappingError(key="errors.mapping.settings_unusable", detail=str(exc)) from exc
    for file, entry in document.get("files", {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("columns", {}), dict):
            raise MappingError(key="errors.mapping.entry_not_object", file=file)
        settings.mapping[file] = dict(entry.get("columns", {}))
        if entry.get("layout"):
            settings.layouts[file] = str(entry["layout"])
    return settings


def parse_mapping_upload(data: bytes, name: str) -> object:
    """An uploaded mapping file's JSON (never executed); MappingError with the line and column
    when it is not UTF-8 JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MappingError(key="errors.mapping.not_utf8", file=name, offset=exc.start) from exc
    except json.JSONDecodeError as exc:
        raise MappingError(
            key="errors.mapping.not_json", file=name, line=exc.lineno, column=exc.colno
        ) from exc


def load_mapping_file(path: str | Path, base: IngestSettings | None = None) -> IngestSettings:
    """Read a mapping JSON file (never executed, only parsed as JSON)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MappingError(
            key="errors.mapping.unreadable", path=str(path), detail=str(exc)
        ) from exc
    return settings_from_mapping(document, base)


def reuse_saved(engine: Engine, name: str, settings: IngestSettings) -> list[str]:
    """Settings for a re-upload under an existing dataset name: its saved column mapping (as the
    default for every file, for the columns the new files have) and its saved stage table (order
    and kinds), unless the caller already chose them. Returns notes (empty when nothing reused)."""
    if not store.dataset_exists(engine, name):
        return []
    dataset_id = store.resolve_dataset_id(engine, name)
    meta = store.read_dataset_meta(engine, dataset_id)
    notes = []
    saved_columns: dict[str, str | None] = {}
    for entry in (meta.get("mapping") or {}).values():
        if isinstance(entry, dict):
            for source, target in (entry.get("columns") or {}).items():
                if target:  # a column left out before is found afresh (its values may differ)
                    saved_columns.setdefault(source, target)
    if saved_columns and not settings.mapping:
        settings.mapping["*"] = saved_columns
        notes.append(f"column mapping of dataset {name!r} (version {meta.get('version')}) reused")
    if settings.stages is None:
        stages = store.read_stages(engine, dataset_id)
        if not stages.empty:
            settings.stages = stages.astype({"position": int}).to_dict("records")
            notes.append(f"stage order and kinds of dataset {name!r} reused")
    saved = meta.get("settings") or {}
    if not settings.status_values and isinstance(saved.get("status_values"), dict):
        settings.status_values = dict(saved["status_values"])
    return notes
