"""The command that re-runs a results file, and the table of what is committed.

Every results file holds the full config of its run and its structured ``run`` fields, so the
command that makes it again is derived, never typed:

- a run trained and tested on one set: ``reid train --config <profile>`` with every key whose
  value differs from the preset (``run.name`` included, so the command writes the same file);
- a run tested on another set (a transfer, a joint training, a synthetic knob turned up): the
  ``tools.sweep`` command that trains (or reuses) the checkpoint and evaluates it there.

:func:`committed_runs` groups the files of one profile into the table the *Reproduction* chapter and
``docs/committed_runs.md`` show: one line per study row and test set, with its splits, seeds,
backbone, cost, and the sweep command that re-runs the whole line.
"""

from __future__ import annotations

import functools
import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import yaml

from reid_lib.data.factory import has_protocol_splits
from reid_lib.engine.config import load_config
from reid_lib.engine.results import NO_KNOB
from reid_lib.engine.run_key import RunKey
from reid_lib.studies.rows import load_studies
from reid_lib.studies.sweep_command import sweep_command

#: The columns of :func:`committed_runs`.
COMMITTED_COLUMNS = [
    "profile",
    "test set",
    "trained on",
    "row",
    "studies",
    "splits",
    "seeds",
    "runs",
    "backbone",
    "hours",
    "re-run",
]
JOINT = "joint"
#: Characters per line of a wrapped command: the book's text column shows it whole at 1280 px.
COMMAND_WIDTH = 64


def _value_text(value: Any) -> str:
    """``value`` as the text of a ``key=value`` override that reads back as ``value`` (JSON is
    YAML; a string YAML would read as something else is quoted)."""
    if isinstance(value, str):
        read_back = yaml.safe_load(value) if value.strip() else ""
        return value if read_back == value else json.dumps(value)
    return json.dumps(value)


@functools.cache
def _preset(profile: str) -> dict[str, dict[str, Any]]:
    return load_config(profile).to_dict()


#: Where a run wrote its checkpoints and results: the machine's choice, not the run's; a re-run
#: command leaves them to the reader (the runner's absolute paths would show on the page).
WHERE_FILES_GO = (("run", "output_dir"), ("run", "results_dir"))


def config_overrides(profile: str, config: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The ``section.key=value`` overrides that turn the ``profile`` preset into ``config``, in
    the config's own order, but for :data:`WHERE_FILES_GO`."""
    preset = _preset(profile)
    return [
        f"{section}.{key}={_value_text(value)}"
        for section, values in config.items()
        for key, value in values.items()
        if preset.get(section, {}).get(key) != value and (section, key) not in WHERE_FILES_GO
    ]


def _trained_splits(runs: Sequence[Mapping[str, Any]]) -> list[int]:
    """The protocol splits ``runs`` trained on; none when their training set has none (the
    synthetic set, whose files record split 0)."""
    if not has_protocol_splits(runs[0]["run"]["train_set"]):
        return []
    return sorted({data["dataset"]["split"] for data in runs})


def _sweep_command(runs: Sequence[Mapping[str, Any]]) -> str:
    """The ``tools.sweep`` command that re-runs ``runs``: files of one profile, test set,
    training set, row and knob, which differ only by seed and split."""
    first = runs[0]
    run, tested_on = first["run"], first["dataset"]["name"]
    common = {
        "profile": run["profile"],
        "rows": [str(run["row"])],
        "seeds": sorted({data["run"]["seed"] for data in runs}),
        "splits": _trained_splits(runs),
    }
    data_config = first["provenance"]["config"].get("data", {})
    if run["knob"] is not None:
        # The knob label names the knobs turned up (every knobs command also tests with all of
        # them off, NO_KNOB); the config gives their level (else the sweep's default).
        level = max(data_config.get("synthetic_knobs", {}).values(), default=0.0)
        extra = [] if run["knob"] == NO_KNOB else ["--knobs", *run["knob"].split("+")]
        extra += ["--level", str(level)] if level > 0 else []
        return sweep_command("knobs", **common, extra=extra)
    if run["train_set"] == JOINT:
        sets = ["--sets", *data_config.get("joint_sets", [tested_on])]
        return sweep_command("joint", **common, extra=sets)
    if run["train_set"] != tested_on:
        sets = ["--train", run["train_set"], "--test", tested_on]
        return sweep_command("transfer", **common, extra=sets)
    return sweep_command("run", **common, dataset=tested_on)


def rerun_command(data: Mapping[str, Any]) -> str:
    """The one shell command that re-runs the results file ``data`` (see the module docstring).

    Raises:
        KeyError: ``data`` is not a results file (check it with
            :func:`~reid_lib.engine.results.validate_results` first).
    """
    run = data["run"]
    if run["knob"] is None and run["train_set"] == data["dataset"]["name"]:
        overrides = config_overrides(run["profile"], data["provenance"]["config"])
        return shlex.join(["reid", "train", "--config", run["profile"], *overrides])
    return _sweep_command([data])


def _numbers(values: Iterable[int]) -> str:
    """``0-4, 7`` for the sorted distinct integers of ``values``; a dash when there are none."""
    numbers = sorted(set(values))
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][-1] + 1:
            spans[-1].append(n)
        else:
            spans.append([n])
    return ", ".join(str(s[0]) if len(s) == 1 else f"{s[0]}-{s[-1]}" for s in spans) or "-"


def _backbone(pretraining: str | None) -> str:
    """A run's backbone as the tables show it: the file's stem and the first 12 hex digits of its
    SHA-256 (``peta-resnet18 e846cdf402e7``), or a dash for none."""
    return pretraining.replace(" sha256:", " ") if pretraining else "-"


def committed_runs(files: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One line per profile, test set, training set, row and knob of the results ``files`` (as
    :func:`~reid_lib.reports.records.load_result_files` gives them): the studies the row belongs
    to, the splits and seeds run, the number of runs, the backbone (:func:`_backbone`; a dash: the
    runs started from no pretrained weights), their summed wall time in hours, and the command
    that re-runs them."""
    studies_of: dict[str, list[str]] = {}
    for study, rows in load_studies().items():
        for row in rows:
            studies_of.setdefault(row, []).append(study)
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for data in files:
        key = RunKey.of(data)
        # A run outside the studies (no row) is a line of its own.
        alone = data["run"]["name"] if key.row is None else None
        line = (key.profile, key.dataset, key.train_set, key.row, key.knob, alone)
        groups.setdefault(line, []).append(data)
    lines = []
    for (profile, tested_on, train_set, row, knob, alone), runs in sorted(
        groups.items(), key=lambda item: tuple(str(part) for part in item[0])
    ):
        lines.append(
            {
                "profile": profile,
                "test set": tested_on + (f" ({knob})" if knob else ""),
                "trained on": train_set,
                "row": row or alone,
                "studies": ", ".join(studies_of.get(row or "", [])) or "-",
                "splits": _numbers(_trained_splits(runs)),
                "seeds": _numbers(data["run"]["seed"] for data in runs),
                "runs": len(runs),
                "backbone": ", ".join(sorted({_backbone(d["run"]["pretraining"]) for d in runs})),
                "hours": sum(d["provenance"]["wall_time_s"] for d in runs) / 3600,
                "re-run": rerun_command(runs[0]) if alone else _sweep_command(runs),
            }
        )
    return pd.DataFrame(lines, columns=COMMITTED_COLUMNS)


def wrapped_command(command: str, width: int = COMMAND_WIDTH) -> str:
    """``command`` over lines of at most about ``width`` characters, continued with a backslash,
    never splitting an option from its values."""
    groups: list[list[str]] = []
    for token in shlex.split(command):
        if token.startswith("--") or not groups:
            groups.append([token])
        else:
            groups[-1].append(token)
    lines = [""]
    for group in groups:
        text = shlex.join(group)
        if lines[-1] and len(lines[-1]) + 1 + len(text) > width:
            lines.append("    " + text)
        else:
            lines[-1] = f"{lines[-1]} {text}" if lines[-1] else text
    return " \\\n".join(lines)


def track_summary(committed: pd.DataFrame) -> pd.DataFrame:
    """One line per profile of a :func:`committed_runs` table: its test sets, its study rows, how
    many runs, the pretrained backbone(s) they started from, and their summed hours."""
    lines = []
    for profile, runs in committed.groupby("profile", sort=True):
        backbones = sorted(set(runs["backbone"]) - {"-"})
        lines.append(
            {
                "profile": profile,
                "test sets": ", ".join(sorted(set(runs["test set"]))),
                "rows": runs["row"].nunique(),
                "runs": int(runs["runs"].sum()),
                "backbone": ", ".join(backbones) or "-",
                "hours": float(runs["hours"].sum()),
            }
        )
    return pd.DataFrame(
        lines, columns=["profile", "test sets", "rows", "runs", "backbone", "hours"]
    )
