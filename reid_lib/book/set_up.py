"""The one helper a chapter's hidden set-up cell calls: start the chapter and ready its data.

Every chapter opens with its ``parameters`` cell (papermill's) and one hidden set-up cell, which
``python -m tools.setup_cell`` writes: on Colab it installs the library, then it calls
:func:`set_up_chapter` with the parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from reid_lib.book.chapter import AUTO, Chapter, start
from reid_lib.book.data import prepare_data
from reid_lib.book.legibility import record_figures_as_shown


def set_up_chapter(
    name: str,
    *,
    profile: str = AUTO,
    dataset: str = "synthetic",
    data_root: str | None = None,
    device: str = AUTO,
    epochs: int | None = None,
    seed: int = 0,
    results_dir: str | None = None,
    runs_dir: str | None = None,
    overrides: Sequence[str] = (),
    needs_data: bool = True,
) -> Chapter:
    """:func:`~reid_lib.book.chapter.start` the chapter with its parameters, print the profile,
    device and seed it runs with, show figures in the book's type size with their legibility
    recorded (:func:`~reid_lib.book.legibility.record_figures_as_shown`), and, when
    ``needs_data``, make sure its dataset is where it is read
    (:func:`~reid_lib.book.data.prepare_data`: the synthetic set is generated, a real set
    downloaded into ``data_root`` if missing).

    Raises:
        what :func:`~reid_lib.book.chapter.start` and :func:`~reid_lib.book.data.prepare_data`
        raise: a bad parameter, or a dataset that cannot be had.
    """
    ch = start(
        name,
        profile=profile,
        dataset=dataset,
        data_root=data_root,
        device=device,
        epochs=epochs,
        seed=seed,
        results_dir=results_dir,
        runs_dir=runs_dir,
        overrides=overrides,
    )
    print(f"profile {ch.profile}, device {ch.device}, seed {ch.seed}")
    record_figures_as_shown()
    if needs_data:
        prepare_data(ch)
    return ch
