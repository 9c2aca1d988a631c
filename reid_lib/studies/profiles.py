"""The book's profiles and what each one runs, in one place.

A profile is also the engine preset of the same name (``reid_lib/engine/presets/<name>.yaml``),
which sets the model and the training; this table sets the rest: how many seeds the sweep trains,
whether a book build trains what it shows, which datasets it trains on, and how long a chapter's
cell may run. All of it is our choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Profile:
    """What a profile runs.

    Attributes:
        name: the profile, and the engine preset it uses.
        seeds: the seeds the sweep trains for each study row on the synthetic set (one data
            set, from ``data.synthetic_seed``; the seed changes initialisation and sampling).
        priority_seeds: the seeds of the floor, the baseline and the full model on the synthetic
            set (``reid_lib.studies.rows.PRIORITY_ROWS``): more than ``seeds``, so that the
            baseline-to-full difference gets a narrow confidence interval.
        splits: the protocol splits of each small real set the sweep trains every row on (with
            ``real_seed``).
        core_splits: the protocol splits of each small real set the sweep trains the core
            study on (``reid_lib.studies.rows.CORE_ROWS``, the floor and LOMO + XQDA): all 10 of
            the literature's under ``cpu``, for the power of the module comparisons.
        real_seed: the seed of every run on a small real set (one per split: the split, not the
            seed, is the unit of its comparisons).
        trains_in_build: the chapters train the runs they show during the book build (CI's
            ``smoke``); otherwise they read the committed results files.
        trains_on_real_sets: the sweep trains on the small real benchmarks found under the data
            root (``smoke`` only tests on them: an epoch on one takes minutes, not seconds).
        large_benchmarks: the sweep trains on Market-1501, DukeMTMC-reID and MSMT17 instead of
            the synthetic and small real sets (a GPU's work).
        cell_timeout_s: seconds a chapter's cell may run under ``tools.run_book``; None: no limit.
    """

    name: str
    seeds: tuple[int, ...]
    priority_seeds: tuple[int, ...]
    splits: tuple[int, ...]
    core_splits: tuple[int, ...]
    real_seed: int
    trains_in_build: bool
    trains_on_real_sets: bool
    large_benchmarks: bool
    cell_timeout_s: int | None


#: The profiles that train one run per set on seed 0 (a GPU's, or CI's, short tracks).
_ONE_RUN = {"seeds": (0,), "priority_seeds": (0,), "splits": (0,), "core_splits": (0,)}
#: The GPU profiles (``colab``, ``full``): one run per real set, read from committed files in a
#: build, no cell time limit; they differ by whether they train the large benchmarks.
_GPU_TRACK = {
    **_ONE_RUN,
    "real_seed": 0,
    "trains_in_build": False,
    "trains_on_real_sets": True,
    "cell_timeout_s": None,
}

PROFILES = {
    profile.name: profile
    for profile in (
        Profile(
            name="smoke",
            **_ONE_RUN,
            real_seed=0,
            trains_in_build=True,
            trains_on_real_sets=False,
            large_benchmarks=False,
            cell_timeout_s=900,
        ),
        Profile(
            name="cpu",
            seeds=(0, 1, 2),
            priority_seeds=tuple(range(10)),
            splits=tuple(range(5)),
            core_splits=tuple(range(10)),
            real_seed=1,
            trains_in_build=False,
            trains_on_real_sets=True,
            large_benchmarks=False,
            cell_timeout_s=4 * 3600,
        ),
        Profile(name="colab", **_GPU_TRACK, large_benchmarks=False),
        Profile(name="full", **_GPU_TRACK, large_benchmarks=True),
    )
}
#: The profile a chapter runs when none is given: ``colab`` on Colab (its GPU: trained results
#: in about half an hour on a T4), else ``smoke``.
DEFAULT_PROFILE, COLAB_PROFILE = "smoke", "colab"


def get_profile(name: str) -> Profile:
    """The profile ``name``.

    Raises:
        ValueError: an unknown name (the message lists the profiles).
    """
    if name not in PROFILES:
        raise ValueError(f"profile {name!r} is unknown; expected one of {list(PROFILES)}")
    return PROFILES[name]
