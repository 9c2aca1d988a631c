"""File-name rules: each dataset encodes pid, camera and more in its image names.

A :class:`NameRule` is a regular expression with named groups plus a human-readable description.
Parsing a name that breaks the rule raises :class:`BadNameError`,
which quotes the name and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class BadNameError(ValueError):
    """An image file name does not follow its dataset's naming rule."""


@dataclass(frozen=True)
class NameRule:
    """The naming rule of one dataset's image files.

    Attributes:
        dataset: dataset name used in error messages, e.g. ``"Market-1501"``.
        pattern: regular expression with named groups; it must match the whole file name.
        description: the rule in words, with an example, quoted in error messages.
    """

    dataset: str
    pattern: str
    description: str

    def match(self, name: str) -> dict[str, str] | None:
        """Named groups of ``name`` (a bare file name), or ``None`` if it breaks the rule."""
        found = re.fullmatch(self.pattern, name)
        return None if found is None else found.groupdict()

    def parse(self, path: str | Path) -> dict[str, str]:
        """Named groups of ``path``'s file name.

        Raises:
            BadNameError: the name breaks the rule; the message quotes the name and the rule.
        """
        path = Path(path)
        groups = self.match(path.name)
        if groups is None:
            raise BadNameError(
                f"{path}: file name {path.name!r} breaks the {self.dataset} naming rule "
                f"{self.description}"
            )
        return groups
