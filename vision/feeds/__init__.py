"""Frame sources: files, streams, devices, images and plain iterators, each on its own reader thread."""

from vision.feeds.base import FeedHealth, FrameSource, Gap
from vision.feeds.capture import FileSource, StreamSource, mask_url
from vision.feeds.errors import SourceNotFound, SourceUnavailable
from vision.feeds.images import ImageSource, IteratorSource
from vision.feeds.open import open_camera, open_source

__all__ = [
    "FeedHealth",
    "FileSource",
    "FrameSource",
    "Gap",
    "ImageSource",
    "IteratorSource",
    "SourceNotFound",
    "SourceUnavailable",
    "StreamSource",
    "mask_url",
    "open_camera",
    "open_source",
]
