"""The reproduction-status tables of the book, built only from files.

Three sources: the results files the chapters wrote in this run (``<results_dir>/<chapter>.json``),
the engine's training results files (``results/<profile>/<dataset>/<run_name>.json``, see
``reid_lib.engine.results``) and the numbers the paper's text states (``book/paper_reported.yaml``).

Every number the book shows from ``results/`` comes from :func:`book_numbers`; a chapter glues them
with myst-nb (:func:`glue_book_numbers`) and :func:`check_claims` recomputes them from the files to
catch a displayed number that no longer matches its file (``tests/test_book_claims.py``).
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import yaml

from reid_lib.engine.config import PRESETS
from reid_lib.engine.results import METRIC_KEYS, validate_results

PAPER_REPORTED = Path(__file__).resolve().parent / "paper_reported.yaml"
#: The mime-type prefix myst-nb gives a value glued with ``display=False``.
GLUE_PREFIX = "application/papermill.record/"
NOT_REPRODUCED = "not yet reproduced"
_OVERVIEW_COLUMNS = ["chapter", "profile", "dataset", "device", "commit", "numbers recorded"]


def flatten(numbers: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists are kept as values."""
    flat: dict[str, Any] = {}
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def chapter_overview(results_dir: Path, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per chapter results file in ``results_dir``: what ran, where, how many numbers."""
    rows = []
    for path in sorted(Path(results_dir).glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("chapter") in exclude:
            continue
        numbers = flatten(data.get("numbers", {}))
        rows.append(
            {
                "chapter": data.get("chapter", path.stem),
                "profile": data.get("profile"),
                "dataset": data.get("dataset"),
                "device": data.get("device"),
                "commit": (data.get("commit") or "unknown")[:10],
                "numbers recorded": len(numbers),
            }
        )
    return pd.DataFrame(rows, columns=_OVERVIEW_COLUMNS)


def shown(percent: float) -> str:
    """How the book shows a metric in percent: one decimal (``96.13`` -> ``"96.1"``)."""
    return f"{percent:.1f}"


def provenance_line(data: dict[str, Any]) -> str:
    """One line saying where a results file's numbers come from.

    Commit (``+dirty`` when the tree had uncommitted changes), a digest of the full config, the
    dataset manifest's checksum, the device and the time the file was written.
    """
    prov = data["provenance"]
    commit = (prov["git_commit"] or "unknown")[:10] + ("+dirty" if prov["git_dirty"] else "")
    config = hashlib.sha256(json.dumps(prov["config"], sort_keys=True).encode()).hexdigest()
    return (
        f"commit {commit}, config {config[:10]}, data {data['dataset']['manifest_sha256'][:10]}, "
        f"{prov['device']}, {prov['created_at']}"
    )


def load_result_files(results_root: Path) -> list[dict[str, Any]]:
    """Every engine results file under ``results_root`` (sorted by path), each validated.

    Raises:
        ValueError: a file that is not JSON or does not follow the results layout (names the file).
    """
    root = Path(results_root)
    files = sorted(root.rglob("*.json")) if root.is_dir() else []
    loaded = []
    for path in files:
        try:
            data = json.loads(path.read_text())
            validate_results(data)
        except ValueError as err:
            raise ValueError(f"results file {path}: {err}") from None
        loaded.append(data)
    return loaded


def collect_results(results_root: Path) -> pd.DataFrame:
    """One row per results file and evaluation variant, metrics in percent, with provenance."""
    rows = []
    for data in load_result_files(results_root):
        for variant, metrics in data["metrics"].items():
            rows.append(
                {
                    "profile": data["profile"],
                    "dataset": data["dataset"]["name"],
                    "run": data["run_name"],
                    "seed": data["provenance"]["seed"],
                    "variant": variant,
                    **{key: 100 * metrics[key] for key in METRIC_KEYS},
                    "provenance": provenance_line(data),
                }
            )
    columns = ["profile", "dataset", "run", "seed", "variant", *METRIC_KEYS, "provenance"]
    return pd.DataFrame(rows, columns=columns)


def seed_spread(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and count over seeds of a :func:`collect_results` table.

    The ablation row of a run is its name without ``-seed<k>`` (``book/results.py`` names runs so).
    """
    rows = table.assign(row=table["run"].str.replace(r"-seed\d+$", "", regex=True))
    keys = ["profile", "dataset", "row", "variant"]
    return rows.groupby(keys)[list(METRIC_KEYS)].agg(["mean", "std", "count"])


def _is_row_run(run_name: str, row: str) -> bool:
    """Whether a run belongs to an ablation row: ``full`` or ``full-seed<k>`` for row ``full``."""
    return run_name == row or run_name.startswith(f"{row}-seed")


def paper_claims(results_root: Path, paper_file: Path = PAPER_REPORTED) -> pd.DataFrame:
    """The paper's stated numbers beside ours, from the ``full``-profile result files.

    A claim (``dataset``, evaluation ``variant``, ablation ``row``) is matched by every result file
    of the ``full`` profile on that dataset whose run belongs to the row and that has the variant.
    Ours is the mean over those files (their seeds), in percent; NaN and "not yet reproduced" when
    there is none.
    """
    results = load_result_files(results_root)
    rows = []
    for claim in yaml.safe_load(Path(paper_file).read_text()):
        matching = [
            data
            for data in results
            if data["profile"] == "full"
            and data["dataset"]["name"] == claim["dataset"]
            and _is_row_run(data["run_name"], claim["row"])
            and claim["variant"] in data["metrics"]
        ]
        for metric, value in claim["metrics"].items():
            ours = [data["metrics"][claim["variant"]][metric] for data in matching]
            rows.append(
                {
                    "dataset": claim["dataset"],
                    "setting": claim["setting"],
                    "metric": metric,
                    "paper (%)": value,
                    "ours (%)": 100 * sum(ours) / len(ours) if ours else float("nan"),
                    "status": f"{len(ours)} result file(s)" if ours else NOT_REPRODUCED,
                }
            )
    return pd.DataFrame(rows)


def book_numbers(results_root: Path) -> dict[str, str]:
    """Every number the book may cite from ``results_root``, by glue name, as shown (:func:`shown`).

    ``<profile>.<dataset>.<run>.<variant>.<metric>`` for each results file, and
    ``paper.<dataset>.<metric>`` for our side of each paper claim that is reproduced.
    """
    numbers = {
        f"{row.profile}.{row.dataset}.{row.run}.{row.variant}.{key}": shown(getattr(row, key))
        for row in collect_results(results_root).itertuples(index=False)
        for key in METRIC_KEYS
    }
    for claim in paper_claims(results_root).to_dict("records"):
        if claim["status"] != NOT_REPRODUCED:
            numbers[f"paper.{claim['dataset']}.{claim['metric']}"] = shown(claim["ours (%)"])
    return numbers


def glue_book_numbers(results_root: Path) -> dict[str, str]:
    """Glue :func:`book_numbers` into the running notebook (not displayed); return them."""
    from myst_nb import glue

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
    for cell in nbformat.read(notebook, as_version=4).cells:
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
        for name, shown in glued_numbers(notebook).items():
            if name not in expected:
                problems.append(f"{notebook}: {name} = {shown!r} has no results file")
            elif shown != expected[name]:
                problems.append(
                    f"{notebook}: {name} shows {shown!r}, its results file gives {expected[name]!r}"
                )
    return problems
