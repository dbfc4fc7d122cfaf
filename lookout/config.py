"""Load ``lookout.toml`` into one validated tree.

Each package owns its section model (``flight/config.py``, ``vision/config.py``, …); this module
only composes them, reads TOML with ``tomllib`` and turns a pydantic error into one line that names
the file, the line and the key path: ``lookout.toml:14 cameras.gate.urll: unknown key (did you mean
'url'?)``. Validation is pure: no network, no device probing, no file checks for weights (those
happen while wiring, in ``lookout.models``).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from console.config import MapConfig
from dispatch.config import DispatchConfig, ResponseAreaConfig, UnitConfig
from flight.config import LinkConfig, SimConfig
from lookout.errors import ConfigError
from missions.config import MissionsConfig
from vision.behaviours.config import RulesConfig
from vision.config import BusConfig, CameraConfig, DetectorsConfig
from vision.zones import ZoneConfig, check_zone_cameras


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Strict):
    data_dir: Path | None = Field(
        None, description="where alerts, evidence, logs live; None = LOOKOUT_DATA or ~/.local/share/lookout"
    )
    evidence_max_gb: float = Field(20.0, gt=0, description="evidence retention cap; oldest clips go first")
    alerts_url: str | None = Field(
        None,
        description="alerts + outbox on PostgreSQL for several desks (postgresql://USER@HOST/DB, or env:VAR); "
        "None = <data>/alerts.sqlite",
    )


class LoggingConfig(_Strict):
    level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="console log level")
    file_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="data-dir log file level")


class LookoutConfig(_Strict):
    """The whole configuration. Every section has a default, so an empty file is valid."""

    storage: StorageConfig = Field(default_factory=StorageConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    links: dict[str, LinkConfig] = Field(default_factory=dict)
    sim: SimConfig = Field(default_factory=SimConfig)
    cameras: dict[str, CameraConfig] = Field(default_factory=dict)
    detectors: DetectorsConfig = Field(default_factory=DetectorsConfig)
    missions: MissionsConfig = Field(default_factory=MissionsConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    units: dict[str, UnitConfig] = Field(default_factory=dict)
    response_areas: dict[str, ResponseAreaConfig] = Field(default_factory=dict)
    map: MapConfig = Field(default_factory=MapConfig)
    zones: dict[str, ZoneConfig] = Field(default_factory=dict)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    bus: BusConfig = Field(default_factory=BusConfig)

    @model_validator(mode="after")
    def _zones_name_cameras(self) -> LookoutConfig:
        check_zone_cameras(self.zones, self.cameras, self.links)  # reported at zones.NAME.camera
        return self


def config_path_from(cli_value: str | None) -> Path | None:
    """``--config`` wins, then ``LOOKOUT_CONFIG``; None means built-in defaults."""
    value = cli_value or os.environ.get("LOOKOUT_CONFIG")
    return Path(value).expanduser() if value else None


def load_config(path: Path | None) -> LookoutConfig:
    """Read and validate a config file (None = defaults). Raises ``ConfigError`` with one line."""
    if path is None:
        return LookoutConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file; check --config / LOOKOUT_CONFIG") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc}); it must be a UTF-8 TOML file") from None
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "lookout.toml") -> LookoutConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if "users" in data:  # users were a config table once; now they live in the data dir
        users_line = re.compile(r"\s*(\[+\s*users\b|users\s*[.=])")
        line = next((n for n, t in enumerate(text.splitlines(), 1) if users_line.match(t)), None)
        raise ConfigError(
            f"{source}{':' + str(line) if line else ''} users: users are no longer configured here; they live in "
            "<data dir>/users.json: add them with `lookout users add NAME --role R` and remove the [users] table"
        )
    try:
        return LookoutConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error_line(exc, text, source)) from None


def _first_error_line(exc: ValidationError, text: str, source: str) -> str:
    # A misspelt key also makes the real key "missing": the unknown key is the cause, report it first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    more = f" (+{len(errors) - 1} more; run `lookout config check` again after fixing)" if len(errors) > 1 else ""
    return _error_line(errors[0], text, source) + more


def _error_line(err: Any, text: str, source: str) -> str:
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc)
    line = _locate(text, loc)
    where = f"{source}:{line}" if line else source
    if err["type"] == "extra_forbidden":
        hint = _did_you_mean(loc)
        return f"{where} {key}: unknown key{hint}; remove it or fix its spelling"
    if err["type"] == "missing":
        return f"{where} {key}: required key is missing; add it"
    msg = err["msg"][0].lower() + err["msg"][1:]
    return f"{where} {key}: {msg} (got {err.get('input')!r})"


def _did_you_mean(loc: list[str]) -> str:
    model: Any = LookoutConfig
    for part in loc[:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return ""
        field = model.model_fields.get(part)
        if field is None:
            # dict entry (e.g. cameras.<name>): step into the dict's value type
            continue
        model = _model_of(field.annotation)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_of(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(args):  # dict[str, X] -> X
        found = _model_of(arg)
        if found is not None:
            return found
    return None


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""", key)
    return [p.strip("\"'") for p in parts]


def _locate(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of the key path ``loc`` in TOML ``text`` (longest matching prefix)."""
    best_line, best_len = None, 0
    table: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(line):
            table = _split_dotted(m.group(1))
            path = table
        elif m := _KEY.match(line):
            path = table + _split_dotted(m.group(1))
        else:
            continue
        n = 0
        for a, b in zip(path, loc, strict=False):
            if a != b:
                break
            n += 1
        if n == len(path) and n > best_len:
            best_line, best_len = lineno, n
    return best_line


def dump_toml(cfg: LookoutConfig) -> str:
    """The effective config as TOML (defaults included), for ``lookout config show``."""
    data = cfg.model_dump(mode="json")
    out: list[str] = []
    _emit_tables(data, [], out)
    return "\n".join(out).strip() + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else '"' + k + '"'


def _emit_tables(data: dict[str, Any], prefix: list[str], out: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if prefix and (scalars or not tables):
        out.append("")
        out.append("[" + ".".join(_toml_key(p) for p in prefix) + "]")
    for k, v in scalars.items():
        if v is None:
            out.append(f"# {_toml_key(k)} = (not set)")
        else:
            out.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in tables.items():
        _emit_tables(v, [*prefix, k], out)
