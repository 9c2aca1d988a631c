"""Tabs and folds in a cell's output: a chapter with a table and a figure per dataset shows one at
a time (:func:`tab_set`); what a reader need not see at first sits under one line (:func:`folded`).

The markup is sphinx-design's tab set (``sd-tab-set``; https://sphinx-design.readthedocs.io): on the
published site the tabs look like the site's other tabs, and tabs with the same label switch
together across the page (sphinx-design's ``data-sync-*`` attributes). A small inline style gives
the same behaviour in Jupyter and on Colab, where sphinx-design's stylesheet is absent.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from reid_lib.book.legibility import png_metadata

#: What a tab can hold: text (shown as a paragraph), a table as the book styles it
#: (``reid_lib.reports.styled``), a figure (closed once drawn), or HTML (a tab set).
TabItem = str | Styler | Figure | HTML

_STYLE = """<style>
.reid-tabs{display:flex;flex-wrap:wrap}
.reid-tabs>input{position:absolute;opacity:0}
.reid-tabs>label{padding:.4em 1em;cursor:pointer;border-bottom:2px solid transparent}
.reid-tabs>input:checked+label{border-bottom-color:currentColor;font-weight:bold}
.reid-tabs>.sd-tab-content{display:none;order:99;width:100%;overflow-x:auto}
.reid-tabs>input:checked+label+.sd-tab-content{display:block}
</style>"""


def dataset_tab_label(profile: str, dataset: str) -> str:
    """The label of a profile's and dataset's tab, the same in every chapter, so that picking a
    dataset on one page picks it on the others too."""
    return f"{dataset} ({profile})"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _item_html(item: TabItem, alt: str) -> str:
    if isinstance(item, Figure):
        buffer = io.BytesIO()
        item.savefig(buffer, format="png", bbox_inches="tight", metadata=png_metadata(item))
        plt.close(item)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    if isinstance(item, Styler):
        return item.to_html()
    if isinstance(item, str):
        return f"<p>{html.escape(item)}</p>"
    if isinstance(item, HTML):
        return item.data
    raise TypeError(
        f"a tab holds text, a Styler, a matplotlib Figure or HTML, not {type(item).__name__}"
    )


def tab_set(tabs: Mapping[str, Sequence[TabItem]], name: str) -> HTML:
    """One tab per key of ``tabs`` (its label), showing its items in order; the first is selected.

    ``name`` must be unique on the page (it names the radio group behind the tabs). Figures are
    drawn as PNG and closed, so that the notebook does not show them a second time under the tabs.
    """
    if not tabs:
        raise ValueError(f"tab set {name!r}: no tabs to show")
    group = _slug(name)
    parts = [_STYLE, '<div class="sd-tab-set reid-tabs">']
    for index, (label, items) in enumerate(tabs.items()):
        tab_id = f"{group}-{index}"
        checked = ' checked="checked"' if index == 0 else ""
        body = "\n".join(_item_html(item, f"{label}: figure") for item in items)
        parts += [
            f'<input type="radio" id="{tab_id}" name="{group}"{checked}>',
            f'<label class="sd-tab-label" for="{tab_id}" data-sync-group="reid-tab" '
            f'data-sync-id="{_slug(label)}">{html.escape(label)}</label>',
            f'<div class="sd-tab-content">{body}</div>',
        ]
    parts.append("</div>")
    return HTML("\n".join(parts))


def folded(summary: str, items: Sequence[TabItem]) -> HTML:
    """``items`` under the one line ``summary``, closed until the reader opens it (an HTML
    ``details`` element, which the site, Jupyter and Colab all fold). Figures are drawn and closed,
    as in :func:`tab_set`."""
    body = "\n".join(_item_html(item, f"{summary}: figure") for item in items)
    summary_html = f"<summary>{html.escape(summary)}</summary>"
    return HTML(f'<details class="reid-folded">{summary_html}\n{body}\n</details>')
