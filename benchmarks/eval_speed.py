"""Speed and memory of the evaluation code at Market-1501 and MSMT17 scale, printed as a table.

Features are random with identity structure: each identity has a random centre, each image is its
centre plus Gaussian noise, L2-normalised (like a trained model's embeddings). Market-1501 scale is
3,368 queries x 15,913 gallery images (751 identities, pid 0 distractors and pid -1 junk among the
gallery); MSMT17 scale is 11,659 x 82,161.

Cases:

- ``evaluate`` against a plain per-query numpy loop (argsort of each row), on the same distances;
  the two results are compared.
- re-ranking at 1/4 and full Market scale: the dense ``re_ranking`` (given the three distance
  matrices, whose computation is included) and the memory-bounded ``re_ranking_features``. Each
  run is a fresh subprocess; its peak resident memory (``ru_maxrss``) is reported, as is the
  resident memory just before the call (interpreter, torch, the features).

Wall-clock time is what a user waits; CPU time (all threads of the process) is also printed,
because on a shared machine the wall-clock time also counts the time other processes had the CPU.
- ``re_ranking_features`` at fractions of MSMT17 scale, smallest first, until the time budget
  (``--msmt-time-limit``) is spent; a run that exceeds what is left is stopped and reported.

Usage, from the repository root (``-m`` so that this checkout's ``reid_lib`` is the one imported):
``python -m benchmarks.eval_speed [--dim 512] [--msmt-time-limit 1800] [--skip-msmt]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from reid_lib.metrics import compute_distance, evaluate, re_ranking, re_ranking_features

ROOT = Path(__file__).resolve().parents[1]
MARKET = (3368, 15913)
MSMT17 = (11659, 82161)
NUM_IDS = {"market": 751, "msmt17": 3060}
NOISE = 0.6  # per-dimension noise relative to the centres' spread


def identity_features(
    num_query: int, num_gallery: int, num_ids: int, dim: int, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Query and gallery features with ids and cameras: 10% distractors, 5% junk in the gallery."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_ids, dim), dtype=np.float32)
    q_pids = rng.integers(1, num_ids + 1, num_query)
    g_pids = rng.integers(1, num_ids + 1, num_gallery)
    kind = rng.random(num_gallery)
    g_pids[kind < 0.10] = 0
    g_pids[(kind >= 0.10) & (kind < 0.15)] = -1

    def draw(pids: np.ndarray) -> np.ndarray:
        base = np.where(
            (pids > 0)[:, None],
            centres[np.maximum(pids, 1) - 1],
            rng.standard_normal((len(pids), dim), dtype=np.float32),
        )
        feats = base + NOISE * rng.standard_normal((len(pids), dim), dtype=np.float32)
        return feats / np.linalg.norm(feats, axis=1, keepdims=True)

    q_cams, g_cams = rng.integers(0, 6, num_query), rng.integers(0, 6, num_gallery)
    return draw(q_pids), draw(g_pids), q_pids, g_pids, q_cams, g_cams


def per_query_loop(dist, q_pids, g_pids, q_cams, g_cams, max_rank=50):
    """The plain loop most libraries run: argsort each row, drop junk, accumulate CMC and AP."""
    cmcs, aps = [], []
    for i in range(len(dist)):
        order = np.argsort(dist[i], kind="stable")
        junk = (g_pids[order] == -1) | ((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        hits = (g_pids[order][~junk] == q_pids[i]) & (g_pids[order][~junk] != 0)
        if not hits.any():
            continue
        cmc = hits.cumsum()
        cmcs.append(np.minimum(cmc[:max_rank], 1))
        aps.append(((cmc / np.arange(1, len(cmc) + 1)) * hits).sum() / hits.sum())
    return np.mean(cmcs, axis=0), float(np.mean(aps))


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def current_rss_gb() -> float:
    """Resident memory of this process now, in GiB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**30


def child(case: str, fraction: float, dim: int) -> None:
    """One re-ranking run; prints a JSON line."""
    full = MSMT17 if case.startswith("msmt17") else MARKET
    num_q, num_g = (max(1, round(n * fraction)) for n in full)
    num_ids = max(2, round(NUM_IDS["msmt17" if case.startswith("msmt17") else "market"] * fraction))
    q, g, *_ = identity_features(num_q, num_g, num_ids, dim)
    before = current_rss_gb()
    start, cpu_start = time.perf_counter(), time.process_time()
    if case == "dense":
        mats = [compute_distance(a, b) for a, b in ((q, g), (q, q), (g, g))]
        result = re_ranking(*mats)
    else:
        result = re_ranking_features(q, g)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert result.shape == (num_q, num_g) and np.isfinite(result).all()
    report = {"seconds": seconds, "cpu": cpu, "peak_gb": peak_rss_gb(), "before_gb": before}
    print(json.dumps(report))


def run_child(case: str, fraction: float, dim: int, limit: float) -> dict:
    command = [sys.executable, "-m", "benchmarks.eval_speed", "--child", case]
    command += ["--fraction", str(fraction)]
    command += ["--dim", str(dim)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=limit, check=True, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"timeout": limit}
    except subprocess.CalledProcessError as err:
        return {"error": err.stderr.strip().splitlines()[-1] if err.stderr else str(err)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=512, help="feature dimension (default 512)")
    parser.add_argument(
        "--msmt-time-limit",
        type=float,
        default=1800.0,
        help="seconds for all MSMT17-scale runs together (default 1800)",
    )
    parser.add_argument("--msmt-fractions", default="0.125,0.25,0.5,1", help="scales to try")
    parser.add_argument("--skip-msmt", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.fraction, args.dim)
        return

    print(
        f"torch threads: {torch.get_num_threads()}; feature dim {args.dim}; "
        f"load average at the start: {_load_average()}"
    )
    print(
        f"{'case':28} {'queries x gallery':>19} {'wall s':>8} {'CPU s':>8} {'peak GiB':>9}  notes"
    )
    q, g, q_pids, g_pids, q_cams, g_cams = identity_features(*MARKET, NUM_IDS["market"], args.dim)
    with _Timer() as timer:
        dist = compute_distance(q, g)
    _print_row("compute_distance (euclidean)", MARKET, timer.wall, timer.cpu)
    best = None
    for _ in range(3):
        with _Timer() as timer:
            result = evaluate(dist, q_pids, g_pids, q_cams, g_cams)
        best = timer if best is None or timer.wall < best.wall else best
    with _Timer() as loop_timer:
        loop_cmc, loop_map = per_query_loop(dist, q_pids, g_pids, q_cams, g_cams)
    same = np.array_equal(loop_cmc, result.cmc) and abs(loop_map - result.mAP) < 1e-12
    _print_row("evaluate (best of 3)", MARKET, best.wall, best.cpu, note=f"same as loop: {same}")
    _print_row("per-query numpy loop", MARKET, loop_timer.wall, loop_timer.cpu)

    for case, name in (("dense", "re_ranking (dense)"), ("features", "re_ranking_features")):
        for fraction in (0.25, 1.0):
            run = run_child(case, fraction, args.dim, limit=1800)
            _print_run(name, tuple(round(n * fraction) for n in MARKET), run)

    if not args.skip_msmt:
        left = args.msmt_time_limit
        for fraction in (float(f) for f in args.msmt_fractions.split(",")):
            scale = tuple(round(n * fraction) for n in MSMT17)
            if left <= 0:
                _print_row("re_ranking_features", scale, note="not run: time budget spent")
                continue
            start = time.perf_counter()
            run = run_child("msmt17", fraction, args.dim, limit=left)
            left -= time.perf_counter() - start
            _print_run("re_ranking_features", scale, run)
    print(f"load average at the end: {_load_average()}")


def _load_average() -> str:
    """1, 5 and 15 minute load averages (Linux), to show how shared the CPU was."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "unknown"


class _Timer:
    """Wall-clock and process CPU seconds (all threads) of a ``with`` block."""

    def __enter__(self) -> _Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def _print_row(
    name: str,
    scale: tuple[int, int],
    wall: float | None = None,
    cpu: float | None = None,
    peak: float | None = None,
    note: str = "",
) -> None:
    cells = ["-" if v is None else f"{v:.2f}" for v in (wall, cpu, peak)]
    size = f"{scale[0]:,} x {scale[1]:,}"
    print(f"{name:28} {size:>19} {cells[0]:>8} {cells[1]:>8} {cells[2]:>9}  {note}", flush=True)


def _print_run(name: str, scale: tuple[int, int], run: dict) -> None:
    if "timeout" in run:
        _print_row(name, scale, note=f"stopped at the {run['timeout']:.0f} s limit")
    elif "error" in run:
        _print_row(name, scale, note=f"failed: {run['error']}")
    else:
        note = f"RSS before the call {run['before_gb']:.2f} GiB"
        _print_row(name, scale, run["seconds"], run["cpu"], run["peak_gb"], note)


if __name__ == "__main__":
    main()
