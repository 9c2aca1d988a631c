"""The [colab] extra installs nothing on Colab but the library: Colab already has every package it
names, at versions that satisfy it, so pip upgrades nothing in the running kernel."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tools.setup_cell import colab_part

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: The packages Colab's kernel runs on: upgrading one inside a live runtime crashes it.
KERNEL = ("ipykernel", "ipython", "tornado", "jupyter-client", "traitlets", "pyzmq")


def colab_pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "tests" / "data" / "colab-pins.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


PINS = colab_pins()
COLAB_INSTALL = [
    Requirement(r) for r in (*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["colab"])
]


@pytest.mark.parametrize("requirement", COLAB_INSTALL, ids=str)
def test_colab_already_has_each_package_at_a_version_that_satisfies_it(requirement) -> None:
    name = canonicalize_name(requirement.name)
    assert name in PINS, f"{requirement}: Colab has no {name}; pip would install it"
    pinned = Version(PINS[name].base_version)  # torch 2.11.0+cu128 counts as 2.11.0
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"{requirement}: Colab has {PINS[name]}; pip would replace it"
    )


def test_colab_python_is_accepted() -> None:
    assert SpecifierSet(PROJECT["requires-python"]).contains(PINS["python"])


def test_the_colab_extra_names_no_package_of_the_kernel() -> None:
    named = {canonicalize_name(r.name) for r in COLAB_INSTALL}
    assert named.isdisjoint(KERNEL)


def test_the_book_extra_builds_on_it_and_the_set_up_cell_installs_it() -> None:
    assert "reid-lib[colab]" in PROJECT["optional-dependencies"]["book"]
    assert '[colab]"]' in colab_part() and "[book]" not in colab_part()


def test_a_pin_that_a_requirement_refuses_is_caught() -> None:
    """The check can fail: Colab's ipywidgets 7.7.1 does not satisfy the book extra's >=8.1."""
    book = [Requirement(r) for r in PROJECT["optional-dependencies"]["book"]]
    widgets = next(r for r in book if r.name == "ipywidgets")
    assert not widgets.specifier.contains(PINS["ipywidgets"])
