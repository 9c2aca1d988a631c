"""Package faces that import their submodules only when a name is first used.

A package's ``__init__`` lists which submodule defines each public name; Python calls the
package's module ``__getattr__`` for a name it does not hold yet (PEP 562), and this imports the
submodule then. So ``import reid_lib.reports.intervals`` runs the ``reid_lib.reports`` face without
loading torch, the trainer or the sweep, while ``from reid_lib.engine import train`` still works.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for a package face.

    ``exports`` maps each public name to the submodule (relative to ``package``) that defines it.
    No public name may also be a submodule's name: importing that submodule would replace it.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return sorted(exports), __getattr__, __dir__
