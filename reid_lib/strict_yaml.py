"""YAML that refuses a key written twice in one mapping.

PyYAML keeps the last of two equal keys without a word, so a config file with two ``model:``
sections (or two ``lr:`` lines) silently loses the first. Every YAML file the library reads (the
configs and presets, the study rows, the paper's findings and numbers) goes through
:func:`read_yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping holds one key twice."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises :class:`DuplicateKeyError` on a repeated key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    f"key {key!r} appears twice in one mapping (lines {seen[key].line + 1} and "
                    f"{key_node.start_mark.line + 1}); the second would silently replace the first"
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> Any:
    """The YAML document in ``path``, every key unique.

    Raises:
        ValueError: the file is not valid YAML or repeats a key (both name the file).
        OSError: the file cannot be read.
    """
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=UniqueKeyLoader)
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
