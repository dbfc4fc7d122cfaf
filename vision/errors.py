"""Errors raised by `vision`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class VisionError(Exception):
    """Base of every error `vision` raises on purpose."""


class GeolocateError(VisionError):
    """Pixel-to-ground geolocation cannot be set up, e.g. broken reference points."""

    def __init__(self, where: str, why: str) -> None:
        self.where, self.why = where, why
        super().__init__(f"{where}: {why}")


class EvidenceError(VisionError):
    """An evidence file (snapshot, clip) could not be written."""

    def __init__(self, what: str, path: str, why: str) -> None:
        self.what, self.path, self.why = what, path, why
        super().__init__(f"evidence {what} {path}: {why}")
