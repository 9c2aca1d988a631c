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
    start = time.perf_counter()
    if case == "dense":
        mats = [compute_distance(a, b) for a, b in ((q, g), (q, q), (g, g))]
        result = re_ranking(*mats)
    else:
        result = re_ranking_features(q, g)
    seconds = time.perf_counter() - start
    assert result.shape == (num_q, num_g) and np.isfinite(result).all()
    print(json.dumps({"seconds": seconds, "peak_gb": peak_rss_gb(), "before_gb": before}))


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

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
    print(f"torch threads: {torch.get_num_threads()}; feature dim {args.dim}; load average {load}")
    rows = []
    q, g, q_pids, g_pids, q_cams, g_cams = identity_features(*MARKET, NUM_IDS["market"], args.dim)
    start = time.perf_counter()
    dist = compute_distance(q, g)
    rows.append(("compute_distance (euclidean)", MARKET, time.perf_counter() - start, None, ""))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = evaluate(dist, q_pids, g_pids, q_cams, g_cams)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    loop_cmc, loop_map = per_query_loop(dist, q_pids, g_pids, q_cams, g_cams)
    loop_seconds = time.perf_counter() - start
    same = np.array_equal(loop_cmc, result.cmc) and abs(loop_map - result.mAP) < 1e-12
    rows.append(("evaluate (best of 3)", MARKET, min(times), None, f"same as loop: {same}"))
    rows.append(("per-query numpy loop", MARKET, loop_seconds, None, ""))

    for case, name in (("dense", "re_ranking (dense)"), ("features", "re_ranking_features")):
        for fraction in (0.25, 1.0):
            run = run_child(case, fraction, args.dim, limit=1800)
            scale = tuple(round(n * fraction) for n in MARKET)
            rows.append(_row(name, scale, run))

    if not args.skip_msmt:
        left = args.msmt_time_limit
        for fraction in (float(f) for f in args.msmt_fractions.split(",")):
            scale = tuple(round(n * fraction) for n in MSMT17)
            if left <= 0:
                rows.append(("re_ranking_features", scale, None, None, "not run: budget spent"))
                continue
            start = time.perf_counter()
            run = run_child("msmt17", fraction, args.dim, limit=left)
            left -= time.perf_counter() - start
            rows.append(_row("re_ranking_features", scale, run))

    print(f"{'case':32} {'queries x gallery':>19} {'time s':>8} {'peak RSS GiB':>13}  notes")
    for name, (num_q, num_g), seconds, peak, note in rows:
        time_text = "-" if seconds is None else f"{seconds:.2f}"
        peak_text = "-" if peak is None else f"{peak:.2f}"
        print(f"{name:32} {f'{num_q:,} x {num_g:,}':>19} {time_text:>8} {peak_text:>13}  {note}")


def _row(name: str, scale: tuple[int, int], run: dict) -> tuple:
    if "timeout" in run:
        return (name, scale, None, None, f"stopped at the {run['timeout']:.0f} s limit")
    if "error" in run:
        return (name, scale, None, None, f"failed: {run['error']}")
    note = f"RSS before the call {run['before_gb']:.2f} GiB"
    return (name, scale, run["seconds"], run["peak_gb"], note)


if __name__ == "__main__":
    main()
