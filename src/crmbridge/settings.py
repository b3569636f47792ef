"""Reading the config file's raw YAML with `${ENV}` / `${ENV:-default}` interpolation.

Interpolation happens on scalar values after parsing, so a value from the environment is never
parsed as YAML (a password with a colon stays a string).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from crmbridge.errors import ConfigError
from crmbridge.store.database import DEFAULT_URL, ENV_VAR

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariables(ConfigError):
    """Environment variables the config needs are not set."""

    def __init__(self, path: Path, missing: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.path, self.missing = path, missing
        listed = "; ".join(f"{_dotted(where)}: {name}" for where, name in missing)
        super().__init__(f"{path}: environment variables not set and without a default: {listed}")


def interpolate(value: str, environ: dict[str, str], missing: list[str] | None = None) -> str:
    """`${VAR}` and `${VAR:-default}` replaced; names not set (and without a default) are
    appended to `missing` (and left in place), or raise when no list is given."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        if missing is None:
            raise ConfigError(f"environment variable {name} is not set and has no default")
        missing.append(name)
        return match.group(0)

    return _VAR.sub(substitute, value)


def _walk(
    node: Any, environ: dict[str, str], where: tuple[str | int, ...], missing: list[Any]
) -> Any:
    if isinstance(node, str):
        names: list[str] = []
        value = interpolate(node, environ, names)
        missing.extend((where, name) for name in names)
        return value
    if isinstance(node, list):
        return [_walk(item, environ, (*where, i), missing) for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {k: _walk(v, environ, (*where, str(k)), missing) for k, v in node.items()}
    return node


def _dotted(where: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in where) or "(top level)"


def read_config(path: Path, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The config as plain data, environment variables substituted; every missing variable is
    reported at once (MissingVariables)."""
    environ = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping of settings")
    missing: list[tuple[tuple[str | int, ...], str]] = []
    result: dict[str, Any] = _walk(data, environ, (), missing)
    if missing:
        raise MissingVariables(path, missing)
    return result


def database_url(config: Path | None, environ: dict[str, str] | None = None) -> str:
    return database_source(config, environ)[0]


def database_source(config: Path | None, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """The database URL and where it came from, in the order that wins: the config's
    `database:`, then CRMBRIDGE_DATABASE_URL, then the default file in the working folder."""
    environ = dict(os.environ) if environ is None else environ
    configured = read_config(config, environ).get("database") if config else None
    if configured is not None and not isinstance(configured, str):
        raise ConfigError(f"{config}: database: must be a URL string")
    if configured:
        return configured, f"database: in {config}"
    if environ.get(ENV_VAR):
        return environ[ENV_VAR], ENV_VAR
    return DEFAULT_URL, "the default (crmbridge.db in the working folder)"
