"""How long a chapter's training run takes on each GPU that ``benchmarks.gpu_check`` measured.

``python -m benchmarks.gpu_check --out benchmarks/results`` writes ``gpu_check-<gpu>.json``
with the seconds per epoch of the ``colab`` preset on that GPU; the expected time of a run is that
times the preset's epochs. Nothing here is typed by hand: without a measurement there is no line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reid_lib.json_files import read_json

COLUMNS = ["GPU", "AMP", "s/epoch (measured)", "epochs", "minutes per run", "commit", "measured"]


def gpu_run_times(folder: Path, epochs: int) -> pd.DataFrame:
    """One line per ``gpu_check-*.json`` in ``folder``: the measured seconds per epoch of the
    ``colab`` preset and the minutes a run of ``epochs`` epochs takes at that rate."""
    lines = []
    for path in sorted(Path(folder).glob("gpu_check-*.json")):
        record = read_json(path, "GPU check record")
        per_epoch = float(record["profile_epochs"]["s/epoch"])
        lines.append(
            {
                "GPU": record["device"],
                "AMP": record["amp"].removeprefix("torch."),
                "s/epoch (measured)": per_epoch,
                "epochs": epochs,
                "minutes per run": epochs * per_epoch / 60,
                "commit": (record.get("commit") or "unknown")[:10],
                "measured": record["written_at"][:10],
            }
        )
    return pd.DataFrame(lines, columns=COLUMNS)
