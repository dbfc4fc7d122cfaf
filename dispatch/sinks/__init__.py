"""Sinks: where forwarded alerts go; ``build_sinks(config, data_dir)`` makes one per ``[dispatch.sinks.NAME]``."""

from dispatch.sinks.base import Sink, build_sinks

__all__ = ["Sink", "build_sinks"]
