"""Errors raised by the detectors and the tracker (all ``VisionError`` subclasses, one line each)."""

from __future__ import annotations

from pathlib import Path

from vision.errors import VisionError


class DetectorError(VisionError):
    """A detector cannot be built or run."""


class WeightsError(DetectorError):
    """A weights file is missing, unreadable or not the kind the detector expects."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        super().__init__(f"weights {path}: {problem}; {fix}")
        self.path = Path(path)
        self.problem = problem
        self.fix = fix


class UnknownDetectorError(DetectorError):
    """The config names a detector type no plugin provides."""

    def __init__(self, type_key: str, known: tuple[str, ...]) -> None:
        super().__init__(f"detector type {type_key!r} is unknown; use one of {', '.join(known)}")
        self.type_key = type_key
        self.known = known


class SourceError(VisionError):
    """An image, video file or stream cannot be opened or read."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        super().__init__(f"source {source}: {problem}; {fix}")
        self.source = source
        self.problem = problem
        self.fix = fix


class OutputError(VisionError):
    """An annotated image or video cannot be written."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        super().__init__(f"output {path}: {problem}; {fix}")
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
