"""What every CLI command gets: the validated config, the data directory, the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lookout.audit import AuditLog
from lookout.config import LookoutConfig, load_config
from lookout.models import prepare_offline_env
from lookout.paths import default_data_dir, ensure_data_dir


@dataclass
class Context:
    config_path: Path | None
    data_dir_override: Path | None = None
    _audit: AuditLog | None = field(default=None, init=False, repr=False)

    @cached_property
    def config(self) -> LookoutConfig:
        return load_config(self.config_path)

    @cached_property
    def data_dir(self) -> Path:
        chosen = self.data_dir_override or self.config.storage.data_dir or default_data_dir()
        path = ensure_data_dir(chosen)
        prepare_offline_env(path / "ultralytics")
        return path

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.sqlite"

    def audit(self) -> AuditLog:
        if self._audit is None:
            self._audit = AuditLog(self.audit_path)
        return self._audit

    def close(self) -> None:
        if self._audit is not None:
            self._audit.close()
            self._audit = None
