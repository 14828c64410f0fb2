"""Imports: declared backfills (import runs), inside which history may be entered late."""
