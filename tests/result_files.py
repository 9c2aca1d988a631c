"""Valid engine results dicts for the tests of the book's tables (no training needed)."""

from __future__ import annotations

SHA = "ab" * 32
RANKS = {"rank1": 0.5, "rank5": 0.75, "rank10": 0.875, "rank20": 1.0}


def result_dict(
    name: str,
    *,
    profile: str,
    dataset: str,
    rank1: float,
    mAP: float = 0.25,
    seed: int = 0,
    row: str | None = None,
    train_set: str | None = None,
    knob: str | None = None,
    split: int = 0,
) -> dict:
    """A results dict of ``reid_lib.engine.results`` layout with the given identity and numbers.

    ``train_set`` defaults to ``dataset`` (a run tested on its own training set).
    """
    metrics = {**RANKS, "rank1": rank1, "mAP": mAP, "mINP": 0.125, "num_valid_queries": 4}
    return {
        "schema_version": 2,
        "run": {
            "name": name,
            "profile": profile,
            "row": row,
            "seed": seed,
            "train_set": train_set or dataset,
            "knob": knob,
            "pretraining": None,
        },
        "epoch": 1,
        "dataset": {
            "name": dataset,
            "split": split,
            "manifest_sha256": SHA,
            "num_train_ids": 3,
            "num_query": 4,
            "num_gallery": 5,
        },
        "metrics": {"single_query": dict(metrics), "multi_query": dict(metrics)},
        "training": {"images_per_s": None, "epochs_completed": 1},
        "provenance": {
            "git_commit": "0123456789abcdef0123456789abcdef01234567",
            "git_dirty": True,
            "config": {"model": {"num_parts": 2}},
            "device": "cpu",
            "torch_version": "2",
            "python_version": "3.11",
            "deterministic": True,
            "wall_time_s": 1.0,
            "created_at": "2026-01-02T03:04:05+00:00",
        },
    }
