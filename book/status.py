"""The reproduction-status overview of the introduction, built only from files.

Two sources: the results files the chapters wrote in this run (``<results_dir>/<chapter>.json``)
and the numbers the paper's text states (``book/paper_reported.yaml``), matched against the
training results files of the engine under ``results/`` when there are any.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

PAPER_REPORTED = Path(__file__).resolve().parent / "paper_reported.yaml"
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


def paper_claims(results_root: Path, paper_file: Path = PAPER_REPORTED) -> pd.DataFrame:
    """The paper's stated numbers, each with the result files under ``results_root`` for its set.

    A claim is "not yet reproduced" when no JSON file under ``results_root`` names its dataset.
    """
    claims = yaml.safe_load(paper_file.read_text())
    found = sorted(Path(results_root).rglob("*.json")) if Path(results_root).is_dir() else []
    rows = []
    for claim in claims:
        matching = [p for p in found if claim["dataset"] in p.read_text()]
        for metric, value in claim["metrics"].items():
            rows.append(
                {
                    "dataset": claim["dataset"],
                    "setting": claim["setting"],
                    "metric": metric,
                    "paper (%)": value,
                    "status": (
                        f"{len(matching)} result file(s)" if matching else "not yet reproduced"
                    ),
                }
            )
    return pd.DataFrame(rows)
