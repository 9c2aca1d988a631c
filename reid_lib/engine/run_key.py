"""A run's identity, in one place: what was trained, from which backbone, and what it was tested on.

A results file records these fields (``run.profile``, ``dataset.name``, ``run.train_set``,
``run.row``, ``run.seed``, ``dataset.split``, ``run.knob``, ``run.pretraining``); every name
derives from them here:

- the run's name, which names its run folder and its results and figure-data files
  (:meth:`RunKey.run_name`; never parsed: the files hold the fields);
- the name under which the book glues its numbers (:meth:`RunKey.glue_name`);
- the columns the report tables group by (:data:`FIELDS`). A comparison pairs two rows' runs by
  the same fields but the row: seed and split, and a backbone in common
  (:func:`~reid_lib.reports.verdicts.compare_rows`).

Two files with one key are one run counted twice; the report tables refuse them
(:mod:`reid_lib.reports.records`). The backbone is part of the key, so runs from two backbones
never pair; the run's name leaves it out, because one profile's committed runs start from one
backbone (the tables refuse a second).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunKey:
    """The identity fields of one run (see the module docstring).

    ``dataset`` is the test set; ``split`` its protocol split (0 on a set without splits);
    ``knob`` the synthetic knobs turned up for the test (None: the run's own test set);
    ``pretraining`` the backbone it started from (``"<name> sha256:<12 hex>"``; None: none).
    """

    profile: str
    dataset: str
    train_set: str
    row: str | None
    seed: int
    split: int
    knob: str | None
    pretraining: str | None

    @classmethod
    def of(cls, results: Mapping[str, Any]) -> RunKey:
        """The key of a results file's dict (validated: see
        :func:`~reid_lib.engine.results.validate_results`)."""
        run, dataset = results["run"], results["dataset"]
        return cls(
            profile=run["profile"],
            dataset=dataset["name"],
            train_set=run["train_set"],
            row=run["row"],
            seed=run["seed"],
            split=dataset["split"],
            knob=run["knob"],
            pretraining=run["pretraining"],
        )

    def written(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The key as a results file holds it: its ``run`` fields and its ``dataset`` fields
        (the inverse of :meth:`of`)."""
        run = {
            "profile": self.profile,
            "row": self.row,
            "seed": self.seed,
            "train_set": self.train_set,
            "knob": self.knob,
            "pretraining": self.pretraining,
        }
        return run, {"name": self.dataset, "split": self.split}

    def fields(self) -> dict[str, Any]:
        """The key as ``{field: value}``, in :data:`FIELDS` order."""
        return dataclasses.asdict(self)

    def glue_name(self, run_name: str) -> str:
        """``<profile>.<test set>[.from-<train set>][.knob-<knob>].<row>.seed<k>[.split<s>]``;
        a run outside the studies (no row) is ``run-<run_name>`` in the row's place."""
        parts = [self.profile, self.dataset]
        if self.train_set != self.dataset:
            parts.append(f"from-{self.train_set}")
        if self.knob is not None:
            parts.append(f"knob-{self.knob}")
        parts.append(self.row if self.row is not None else f"run-{run_name}")
        parts.append(f"seed{self.seed}")
        if self.split:
            parts.append(f"split{self.split}")
        return ".".join(parts)

    @staticmethod
    def run_name(row: str, seed: int, split: int | None) -> str:
        """The name of a study row's run: ``<row>[-split<s>]-seed<k>`` (no split on a set
        without protocol splits)."""
        return f"{row}{'' if split is None else f'-split{split}'}-seed{seed}"


#: The identity fields, in the order the tables sort by.
FIELDS = tuple(field.name for field in dataclasses.fields(RunKey))
