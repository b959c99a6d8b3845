"""The errors ingestion raises on purpose: each names the file, where, and how to fix it."""

from __future__ import annotations

from dealscope.errors import DealScopeError


class UploadError(DealScopeError):
    """A file (or database table) cannot be taken in as a whole."""


class FileTypeError(UploadError):
    """The file's bytes do not match a supported type (CSV text or a real .xlsx)."""


class EncodingProblem(UploadError):
    """The bytes cannot be decoded without guessing (undecodable byte at a known offset)."""


class CsvStructureError(UploadError):
    """The CSV cannot be split into records (e.g. a quote that never closes)."""


class LimitExceeded(UploadError):
    """A named limit (size, rows, XLSX uncompressed size / ratio / entries) was exceeded."""


class NoDataError(UploadError):
    """The file has no data rows (empty, or a header only)."""


class MappingError(UploadError):
    """Required columns are missing or the mapping names columns the file does not have."""


class SettingsError(UploadError):
    """An ingest setting is invalid (an unknown time zone): fixed in the options, not the mapping."""


class SourceError(UploadError):
    """The database source cannot be read (bad URL, unknown table, connection refused)."""
