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
from crmbridge.store.database import resolve_url

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: str, environ: dict[str, str], where: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set and has no default")

    return _VAR.sub(substitute, value)


def _walk(node: Any, environ: dict[str, str], where: str) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ, where)
    if isinstance(node, list):
        return [_walk(item, environ, f"{where}[{i}]") for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {key: _walk(value, environ, f"{where}.{key}") for key, value in node.items()}
    return node


def read_config(path: Path, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The config as plain data, environment variables substituted."""
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
    result: dict[str, Any] = _walk(data, environ, str(path))
    return result


def database_url(config: Path | None, environ: dict[str, str] | None = None) -> str:
    configured = read_config(config, environ).get("database") if config else None
    if configured is not None and not isinstance(configured, str):
        raise ConfigError(f"{config}: database: must be a URL string")
    return resolve_url(configured, environ)
