"""Errors raised by frame sources. All are ``vision.detect.errors.SourceError`` (a ``VisionError``)."""

from __future__ import annotations

from vision.detect.errors import SourceError


class SourceNotFound(SourceError):
    """A file, directory or device named as a source does not exist."""

    def __init__(self, feed: str, source: str, problem: str, fix: str) -> None:
        super().__init__(f"{source} (feed {feed!r})", problem, fix)
        self.feed = feed
        self.url = source


class SourceUnavailable(SourceError):
    """A source exists on paper but could not be opened or read (dead URL, refused, timed out)."""

    def __init__(self, feed: str, source: str, problem: str, fix: str) -> None:
        super().__init__(f"{source} (feed {feed!r})", problem, fix)
        self.feed = feed
        self.url = source
