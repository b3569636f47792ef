"""Load a config file: YAML → environment interpolation → pydantic, every error with its line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crmbridge.config.locate import (
    Located,
    Path_,
    dotted,
    duplicate_keys,
    line_index,
    line_of,
)
from crmbridge.config.model import Config
from crmbridge.errors import ConfigError
from crmbridge.settings import MissingVariables, read_config


class ConfigProblems(ConfigError):
    """The configuration has problems."""

    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in the configuration:\n{listed}")


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path
    lines: dict[Path_, int]

    def at(self, path: tuple[Any, ...], message: str) -> Located:
        return Located(self.path, line_of(self.lines, path), dotted(path), message)


def load_config(path: Path, environ: dict[str, str] | None = None) -> LoadedConfig:
    """The validated config; raises ConfigProblems listing every schema error with its line."""
    environ = dict(os.environ) if environ is None else environ
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = line_index(text)
    try:
        data = read_config(path, environ)
    except MissingVariables as exc:
        raise ConfigProblems(
            [
                Located(
                    path,
                    line_of(lines, where),
                    dotted(where),
                    f"environment variable {name} is not set and has no default",
                )
                for where, name in exc.missing
            ]
        ) from None
    repeated = [
        Located(path, again, dotted(key), f"given twice (first at line {first})")
        for key, first, again in duplicate_keys(text)
    ]
    if repeated:
        raise ConfigProblems(repeated)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigProblems([_located(path, lines, error) for error in exc.errors()]) from None
    return LoadedConfig(config, path, lines)


def _located(path: Path, lines: dict[Path_, int], error: Any) -> Located:
    loc = tuple(error["loc"])
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling)"
    elif error["type"] == "missing":
        message = "required setting is missing"
    return Located(path, line_of(lines, loc), dotted(loc), message)
