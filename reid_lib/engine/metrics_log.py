"""Training metrics as JSON Lines (one object per line), with TensorBoard as an option.

Each line is ``{"event": ..., "epoch": ..., "step": ..., "time": seconds since start, ...values}``;
``pandas.read_json(path, lines=True)`` reads the file back for the book's plots.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

#: The file name of a run's metrics log in its run folder.
METRICS_LOG = "metrics.jsonl"


class MetricsLog:
    """Append-only JSONL log; ``tensorboard=True`` also writes scalars with ``SummaryWriter``.

    Raises:
        ImportError: ``tensorboard=True`` but the ``tensorboard`` package is not installed.
    """

    def __init__(self, path: str | Path, *, tensorboard: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a")
        self._start = time.perf_counter()
        self._writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise ImportError(
                    "run.tensorboard=true needs the tensorboard package (pip install tensorboard); "
                    "set run.tensorboard=false to log to JSONL only"
                ) from err
            self._writer = SummaryWriter(log_dir=str(self.path.parent / "tensorboard"))

    def log(self, event: str, *, epoch: int, step: int, **values: Any) -> None:
        """Write one line; numeric ``values`` also go to TensorBoard as ``event/name``."""
        record = {
            "event": event,
            "epoch": epoch,
            "step": step,
            "time": round(time.perf_counter() - self._start, 3),
            **values,
        }
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        if self._writer is not None:
            for name, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self._writer.add_scalar(f"{event}/{name}", value, step)

    def close(self) -> None:
        """Flush and close the file (and the TensorBoard writer)."""
        self._fh.close()
        if self._writer is not None:
            self._writer.close()
