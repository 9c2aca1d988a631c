"""The book's profiles and what each one runs, in one place.

A profile is also the engine preset of the same name (``reid_lib/engine/presets/<name>.yaml``),
which sets the model and the training; this table sets the rest: how many seeds the sweep trains,
whether a book build trains what it shows, which datasets it trains on, and how long a chapter's
cell may run. All of it is our choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
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


PROFILES = {
    profile.name: profile
    for profile in (
        Profile("smoke", (0,), (0,), (0,), (0,), 0, True, False, False, 900),
        Profile(
            "cpu",
            (0, 1, 2),
            tuple(range(10)),
            tuple(range(5)),
            tuple(range(10)),
            1,
            False,
            True,
            False,
            4 * 3600,
        ),
        Profile("colab", (0,), (0,), (0,), (0,), 0, False, True, False, None),
        Profile("full", (0,), (0,), (0,), (0,), 0, False, True, True, None),
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
