"""The numbers the book's prose cites, glued from results files and checked against them.

Every number the book shows from ``results/`` comes from :func:`book_numbers`: a chapter glues
them with myst-nb (:func:`glue_book_numbers`), and :func:`check_claims` recomputes them from the
files to catch a displayed number that no longer matches its file. A glue name is built from the
results file's fields (:func:`glue_name`), never from its file name.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pandas as pd

from reid_lib.book.notebook_files import read_notebook
from reid_lib.engine.config import PRESETS
from reid_lib.engine.results import METRIC_KEYS
from reid_lib.engine.run_key import FIELDS, RunKey
from reid_lib.reports.paper import paper_claims
from reid_lib.reports.records import NOT_REPRODUCED, collect_results, shown

#: The mime-type prefix myst-nb gives a value glued with ``display=False``.
GLUE_PREFIX = "application/papermill.record/"


def glue_name(line: dict[str, Any]) -> str:
    """:meth:`~reid_lib.engine.run_key.RunKey.glue_name` of a line of
    :func:`~reid_lib.reports.records.collect_results` (a missing value there is None)."""
    key = RunKey(**{name: None if pd.isna(line[name]) else line[name] for name in FIELDS})
    return key.glue_name(line["run"])


def book_numbers(results_root: Path) -> dict[str, str]:
    """Every number the book may cite from ``results_root``, by glue name, as shown.

    ``<glue_name>.<variant>.<metric>`` for each results file, and ``paper.<dataset>.<metric>``
    for our side of each paper claim that is reproduced.

    Raises:
        ValueError: two results files with the same fields (their provenance is named).
    """
    numbers: dict[str, str] = {}
    sources: dict[str, str] = {}
    for line in collect_results(results_root).to_dict("records"):
        name = f"{glue_name(line)}.{line['variant']}"
        if name in sources:
            raise ValueError(
                f"two results files for {name}: {sources[name]} and {line['provenance']}"
            )
        sources[name] = line["provenance"]
        numbers.update({f"{name}.{key}": shown(line[key]) for key in METRIC_KEYS})
    for claim in paper_claims(results_root).to_dict("records"):
        if claim["status"] != NOT_REPRODUCED:
            numbers[f"paper.{claim['dataset']}.{claim['metric']}"] = shown(claim["ours (%)"])
    return numbers


def glue(name: str, value: Any, display: bool = False) -> None:
    """myst-nb's ``glue`` of ``value`` under ``name``, for the site's ``{glue}`` roles; nothing
    where myst-nb is not installed (Colab's ``[colab]`` extra leaves it out: the numbers are in
    the cells' outputs, and Colab shows the prose's roles as they are)."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)


def glue_book_numbers(results_root: Path) -> dict[str, str]:
    """Glue :func:`book_numbers` into the running notebook (not displayed); return them."""
    numbers = book_numbers(results_root)
    for name, text in numbers.items():
        glue(name, text, display=False)
    return numbers


def glued_numbers(notebook: Path) -> dict[str, str]:
    """The values glued (myst-nb ``glue``) in an executed notebook, as displayed, by name.

    Only the names :func:`book_numbers` gives out (``<profile>.`` or ``paper.`` first) are read;
    a chapter may glue other things.
    """
    glued = {}
    for cell in read_notebook(notebook).cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if scrap is None or scrap["name"].split(".")[0] not in (*PRESETS, "paper"):
                continue
            text = output["data"][scrap["mime_prefix"] + "text/plain"]
            glued[scrap["name"]] = ast.literal_eval(text)
    return glued


def check_claims(notebooks: list[Path], results_root: Path) -> list[str]:
    """Each glued number in ``notebooks`` that differs from its results file, as a message."""
    expected = book_numbers(results_root)
    problems = []
    for notebook in notebooks:
        for name, value in glued_numbers(notebook).items():
            if name not in expected:
                problems.append(f"{notebook}: {name} = {value!r} has no results file")
            elif value != expected[name]:
                problems.append(
                    f"{notebook}: {name} shows {value!r}, its results file gives {expected[name]!r}"
                )
    return problems
