"""Errors of the composition root (config, data directory, audit, model files)."""


class LookoutError(Exception):
    """Base of errors raised by ``lookout`` itself."""


class ConfigError(LookoutError):
    """A config file is unreadable or invalid; the message names the file, line and key."""


class ModelFileError(LookoutError):
    """A configured or packaged model file is missing."""


class AuditError(LookoutError):
    """The audit log is unreadable or its chain is broken."""
