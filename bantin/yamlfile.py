"""bantin's YAML files (deploy/sources.yaml, the subscribers): read so that every mistake
names its line. Pure: text in, nodes and data out.

`load` gives the document twice: the node tree, which knows the line of every key and
value, and the plain data pydantic validates; `node_line` maps a pydantic error location
(`("sources", 2, "listing_urls", 0)`) back to its line. A key written twice in one mapping
is an error (PyYAML would silently keep the last).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


class YamlSyntaxError(ValueError):
    """The text is not YAML (or repeats a key); `line` is 1-based, None when unknown."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key written twice in one mapping."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's root node (None when empty) and its data; raises YamlSyntaxError."""
    try:
        return yaml.compose(text, Loader=_UniqueKeyLoader), yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(mark.line + 1 if mark else None, problem) from None


def node_line(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """Line (1-based) of the node at a pydantic error location: a mapping's key is reported
    on the key itself; a part of `loc` the file does not have, on its nearest parent."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    node = value_node
                    line = key_node.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
