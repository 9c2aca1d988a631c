"""The one helper a chapter's hidden set-up cell calls: start the chapter and ready its data.

Every chapter opens with its ``parameters`` cell (papermill's) and one hidden set-up cell, which
``python -m tools.setup_cell`` writes: on Colab it installs the library, then it calls
:func:`set_up_chapter` with the parameters.
"""

from __future__ import annotations

from typing import Any

from reid_lib.book.chapter import Chapter, start
from reid_lib.book.data import prepare_data
from reid_lib.book.legibility import record_figures_as_shown


def set_up_chapter(name: str, *, needs_data: bool = True, **parameters: Any) -> Chapter:
    """:func:`~reid_lib.book.chapter.start` the chapter with its ``parameters`` (the keywords of
    ``start``, from the chapter's parameters cell), print the profile, device and seed it runs
    with, show figures in the book's type size with their legibility recorded
    (:func:`~reid_lib.book.legibility.record_figures_as_shown`), and, when ``needs_data``, make
    sure its dataset is where it is read (:func:`~reid_lib.book.data.prepare_data`: the synthetic
    set is generated, a real set downloaded into ``data_root`` if missing).

    Raises:
        what :func:`~reid_lib.book.chapter.start` and :func:`~reid_lib.book.data.prepare_data`
        raise: a bad parameter, or a dataset that cannot be had; ``TypeError`` for a keyword
        ``start`` does not take.
    """
    ch = start(name, **parameters)
    print(f"profile {ch.profile}, device {ch.device}, seed {ch.seed}")
    record_figures_as_shown()
    if needs_data:
        prepare_data(ch)
    return ch
