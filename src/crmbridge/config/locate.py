"""Line numbers for YAML paths, so every config error can name its file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


def line_index(text: str) -> dict[Path_, int]:
    """Map each path in the document (keys and list positions) to its 1-based line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    index: dict[Path_, int] = {}
    if root is not None:
        _walk(root, (), index)
    return index


def _walk(node: yaml.Node, path: Path_, index: dict[Path_, int]) -> None:
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            index[child] = key.start_mark.line + 1
            _walk(value, child, index)
            index[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _walk(item, (*path, position), index)


def duplicate_keys(text: str) -> list[tuple[Path_, int, int]]:
    """Keys given twice in one mapping: (path, first line, repeated line).

    YAML loaders keep the last one silently, so a pasted block could undo a setting unnoticed.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    found: list[tuple[Path_, int, int]] = []
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name, line = str(key.value), key.start_mark.line + 1
                if name in seen:
                    found.append(((*path, name), seen[name], line))
                seen.setdefault(name, line)
                stack.append((value, (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    return sorted(found, key=lambda item: item[2])


def line_of(index: dict[Path_, int], path: tuple[Any, ...]) -> int:
    """The line of `path`, or of its nearest ancestor present in the file."""
    probe: tuple[Any, ...] = tuple(path)
    while probe and probe not in index:
        probe = probe[:-1]
    return index.get(probe, 1)


def dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class Located:
    """A problem found in a config file: where it is and what is wrong."""

    def __init__(self, file: Path, line: int, field: str, message: str) -> None:
        self.file, self.line, self.field, self.message = file, line, field, message

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def __repr__(self) -> str:
        return f"Located({str(self)!r})"
