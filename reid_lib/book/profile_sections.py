"""A chapter's results per profile: the committed tracks shown, the build's smoke runs folded.

Smoke runs train for seconds on tiny images. They prove that the pipeline runs (the build and CI
train them), not what a model does, so a page shows them last, folded under one line that says
what they are (:data:`SMOKE_LINE`); the committed tracks (``cpu``, ``full``) come first, each under
its heading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from matplotlib.figure import Figure

from reid_lib.book.tabs import TabItem, folded

SMOKE = "smoke"
SMOKE_LINE = (
    "Smoke runs of this build: seconds of training on tiny images, to check that the pipeline "
    "runs. Not results: open to see them."
)


def show_profiles(sections: Mapping[str, Sequence[TabItem]], what: str = "") -> None:
    """Display each profile's ``items``: a committed profile under the heading
    ``` `<profile>` profile<what> ```, the smoke profile last and folded (:func:`folded`).

    Text is shown as Markdown, figures as they are (then closed, so the notebook does not draw
    them twice)."""
    for profile, items in sorted(sections.items(), key=lambda item: item[0] == SMOKE):
        if profile == SMOKE:
            display(folded(SMOKE_LINE, items))
            continue
        display(Markdown(f"### `{profile}` profile{what}"))
        for item in items:
            _show(item)


def _show(item: TabItem) -> None:
    """One item as the notebook shows it."""
    if isinstance(item, str):
        display(Markdown(item))
    else:
        display(item)
        if isinstance(item, Figure):
            plt.close(item)
