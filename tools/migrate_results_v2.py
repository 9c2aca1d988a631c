"""Rewrite results files of schema 1 in schema 2: ``python -m tools.migrate_results_v2 DIR ...``.

Schema 1 kept a run's identity in its name (``full-seed0``, ``from-viper-full-seed0``,
``knob-occlusion-wdp-seed0``); schema 2 keeps it in the ``run`` fields that the tables group by
(``reid_lib.engine.results``). This is the one place that reads those names, to migrate files
written before the change (the committed ``results/`` were migrated with it; a fork's files can be
too). For each file:

- ``run.train_set`` and ``run.knob`` come from the ``from-<train>-`` and ``knob-<knob>-`` prefixes;
- ``run.row`` is the first study row whose config, under the file's profile, has the same model
  and image size as the file's config (so a schema-1 ``msg`` run, which had TSA off, becomes
  ``msg-no-tsa``); no match leaves it null and says so;
- the config gains the keys added since (``model.wdp`` becomes a switch plus ``part_fusion``,
  ``none`` fusion is ``plain``; the MSG and WDP options and the re-ranking parameters take the
  values the schema-1 code used).

Files already in schema 2 are left alone; each file is validated and then replaced atomically.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reid_lib.atomic_write import atomic_write
from reid_lib.engine.config import ConfigError, from_dict
from reid_lib.engine.results import SCHEMA_VERSION, validate_results
from reid_lib.errors import run_reported
from reid_lib.studies.rows import load_rows, row_config

PROG = "python -m tools.migrate_results_v2"

_PREFIXES = re.compile(r"^(?:from-(?P<train>[a-z0-9_]+)-|knob-(?P<knob>[a-z+]+)-)?(?P<rest>.+)$")
# The values the schema-1 code used for the options that had no config key.
_ADDED = {
    "model": {"msg_conv_bn_relu": True, "wdp_shared_fc": True},
    "eval": {"rerank_k1": 20, "rerank_k2": 6, "rerank_lambda": 0.3},
}


def migrate_config(config: dict[str, Any], row: str | None) -> dict[str, Any]:
    """A schema-1 config dict with the keys of today's config (``run.row`` set to ``row``)."""
    config = {section: dict(values) for section, values in config.items()}
    fusion = config["model"].pop("wdp")
    config["model"]["wdp"] = fusion is not None
    config["model"]["part_fusion"] = {None: "adaptive", "none": "plain"}.get(fusion, fusion)
    for section, values in _ADDED.items():
        for key, value in values.items():
            config[section].setdefault(key, value)
    config["run"]["row"] = row
    return config


def _shape(config: dict[str, Any]) -> tuple[str, int, int]:
    return (
        json.dumps(config["model"], sort_keys=True),
        config["data"]["height"],
        config["data"]["width"],
    )


def row_of(config: dict[str, Any], profile: str, dataset: str) -> str | None:
    """The first study row whose config under ``profile`` has ``config``'s model and image size."""
    target = _shape(config)
    for row, overrides in load_rows().items():
        try:
            candidate = row_config(profile, overrides, dataset).to_dict()
        except ConfigError:
            continue
        if _shape(candidate) == target:
            return row
    return None


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """The schema-2 form of a schema-1 results dict.

    Raises:
        ValueError: ``data`` is not a schema-1 results dict.
    """
    if data.get("schema_version") != 1:
        raise ValueError(f"expected schema_version 1, got {data.get('schema_version')!r}")
    prefixes = _PREFIXES.match(data["run_name"])
    dataset = data["dataset"]["name"]
    train_set = prefixes["train"] or dataset
    provenance = dict(data["provenance"])
    seed = provenance.pop("seed")
    config = migrate_config(provenance["config"], None)
    row = row_of(config, data["profile"], train_set)
    config["run"]["row"] = row
    from_dict(config, source=data["run_name"])
    provenance["config"] = config
    migrated = {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "name": data["run_name"],
            "profile": data["profile"],
            "row": row,
            "seed": seed,
            "train_set": train_set,
            "knob": prefixes["knob"],
            "pretraining": config["model"]["pretrained"],
        },
        **{key: data[key] for key in ("epoch", "dataset", "metrics", "training")},
        "provenance": provenance,
    }
    validate_results(migrated)
    return migrated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: migrate every schema-1 ``*.json`` under the folders given."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    return run_reported(PROG, lambda: _migrate_folders(args.folders), debug=args.debug)


def _migrate_folders(folders: Sequence[Path]) -> int:
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise NotADirectoryError(f"no such folder: {', '.join(missing)}")
    for path in sorted(p for folder in folders for p in folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
            if data.get("schema_version") == SCHEMA_VERSION:
                continue
            migrated = migrate(data)
        except (ValueError, KeyError, AttributeError) as err:
            raise ValueError(f"{path}: not a results file this tool can migrate: {err}") from None
        text = json.dumps(migrated, indent=2) + "\n"
        atomic_write(path, lambda fh, text=text: fh.write(text.encode()))
        row = migrated["run"]["row"]
        print(f"{path}: row {row}" if row else f"{path}: no study row matches its config")
    return 0


if __name__ == "__main__":
    sys.exit(main())
