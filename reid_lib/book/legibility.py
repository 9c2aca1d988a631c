"""Can a reader of the site read a figure? Its smallest text as shown, and legends over data.

A chapter's figure reaches the site as a PNG that the page shrinks to its column when it is
wider. Its text is legible when, once shrunk, it is at least as large as the page's small print,
and its legends lie outside the data they would hide. :func:`record_figures_as_shown` (which the
set-up cell turns on) measures each figure a chapter shows and writes the measure into the PNG
itself, as a text chunk under :data:`PNG_KEY`; ``tools.page_defects`` reads it back from the
site's images and reports each figure that fails (:func:`shown_defects`). So every figure is
checked as it was drawn, the library's and a chapter's own alike, with no browser.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import Collection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.transforms import Bbox
from PIL import Image

#: Width (px) of the column a cell's output gets at a 1280 px window, measured in Chromium in
#: the narrowest place a figure sits: a tab's content (sphinx-design's ``sd-tab-content``, the
#: 688 px column less a 2 px border and 10 px padding on each side); ``tools.check_site`` fails if
#: a figure gets less.
COLUMN_PX = 664
#: Size (px) of the page's small print at 1280 px: its code and output text, and its sidebar.
SMALL_PRINT_PX = 14.0
#: The book's base type size: matplotlib's 10 pt is 13.9 px at its 100 dpi, under the small print.
#: Tick labels, legends and titles are sized relative to it.
BOOK_RC = {"font.size": 11.0}
#: How many overlapping pairs of texts a record names.
MOST_PAIRS = 3
#: Pixels two text boxes may share before they count as drawn over each other (their edges).
TOUCH_PX = 1.0
#: The PNG text chunk that carries a figure's :class:`Legibility`.
PNG_KEY = "reid-book legibility"


@dataclass(frozen=True)
class Legibility:
    """What a drawn figure shows, in the pixels of its PNG.

    Attributes:
        smallest_text_px: the height (font size) of its smallest drawn text, in PNG pixels.
        smallest_text: that text.
        legends_over_data: for each legend that covers a line, point, bar or image of the data,
            the title of the axes it covers (or ``"figure"``).
        texts_over_texts: pairs of drawn texts whose boxes overlap (``"'a' on 'b'"``), at most
            :data:`MOST_PAIRS` of them; texts drawn at a slant are not compared.
    """

    smallest_text_px: float
    smallest_text: str
    legends_over_data: tuple[str, ...]
    texts_over_texts: tuple[str, ...]


class _TextRecorder(RendererAgg):
    """An Agg renderer that notes the size and content of each text it is asked to draw, and
    the box of each text artist (once, however many lines it draws)."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self.texts: list[tuple[float, str]] = []
        self.boxes: dict[int, tuple[str, Bbox]] = {}

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if s.strip():
            self.texts.append((prop.get_size_in_points() * self.dpi / 72, s))
            # A slanted text's box is far larger than its glyphs (tick labels at 45 degrees):
            # only texts drawn level or upright are compared.
            upright = mtext is not None and mtext.get_rotation() % 90 == 0
            if upright and id(mtext) not in self.boxes:
                box = mtext.get_window_extent(renderer=self)
                self.boxes[id(mtext)] = (mtext.get_text(), box)
        super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)


def _overlapping(boxes: list[tuple[str, Bbox]]) -> list[str]:
    """The pairs of texts whose boxes share more than their edges (:data:`TOUCH_PX`)."""
    pairs = []
    for i, (text, box) in enumerate(boxes):
        inner = box.padded(-TOUCH_PX)
        for other, other_box in boxes[i + 1 :]:
            if inner.overlaps(other_box.padded(-TOUCH_PX)):
                pairs.append(f"{text!r} on {other!r}")
    return pairs


def _covers_data(box: Bbox, ax: Axes) -> bool:
    """True if ``box`` (display pixels) overlaps a line, bar, point set or image of ``ax``
    inside the axes (the data are clipped to them: a legend below the axes covers nothing)."""
    box = Bbox.intersection(box, ax.bbox)
    if box is None:
        return False
    for line in ax.lines:
        path = line.get_transform().transform_path(line.get_path())
        if line.get_visible() and path.intersects_bbox(box, filled=False):
            return True
    shapes = [*ax.patches, *ax.images]
    if any(s.get_visible() and s.get_window_extent().overlaps(box) for s in shapes):
        return True
    return any(_collection_covered(c, box) for c in ax.collections if c.get_visible())


def _collection_covered(collection: Collection, box: Bbox) -> bool:
    """True if a point of a scatter, or a segment, band or cell of ``collection``, lies under
    ``box``."""
    if isinstance(collection, PathCollection):  # a scatter: its points are its offsets
        points = collection.get_offset_transform().transform(collection.get_offsets())
        return any(box.contains(x, y) for x, y in points)
    transform, filled = collection.get_transform(), isinstance(collection, PolyCollection)
    return any(
        transform.transform_path(path).intersects_bbox(box, filled=filled)
        for path in collection.get_paths()
    )


def _legends(fig: Figure) -> list[tuple[Legend, list[Axes], str]]:
    """Each legend, with the axes whose data it might hide and a name for it."""
    found = [(legend, fig.axes, "figure") for legend in fig.legends]
    for ax in fig.axes:
        if ax.get_legend() is not None:
            found.append((ax.get_legend(), [ax], ax.get_title() or "untitled axes"))
    return found


def measure(fig: Figure) -> Legibility:
    """Draw ``fig`` once, off screen, and measure its text (its smallest, and any drawn over
    another) and legends.

    A figure with no text gets an infinite smallest size.
    """
    width, height = fig.get_size_inches() * fig.dpi
    renderer = _TextRecorder(width, height, fig.dpi)
    fig.draw(renderer)
    smallest = min(renderer.texts, default=(float("inf"), ""))
    covering = [
        name
        for legend, axes, name in _legends(fig)
        if legend.get_visible()
        and any(_covers_data(legend.get_window_extent(renderer), ax) for ax in axes)
    ]
    overlapping = _overlapping(list(renderer.boxes.values()))[:MOST_PAIRS]
    return Legibility(round(smallest[0], 2), smallest[1], tuple(covering), tuple(overlapping))


def png_metadata(fig: Figure) -> dict[str, str]:
    """The PNG text chunk that carries ``fig``'s :func:`measure`: pass it to ``savefig``."""
    return {PNG_KEY: json.dumps(asdict(measure(fig)))}


def png_defects(png: bytes) -> list[str]:
    """:func:`shown_defects` of a figure's PNG, read from its :data:`PNG_KEY` chunk; a PNG
    without one is a defect too (a figure drawn outside the chapters' set-up)."""
    with Image.open(io.BytesIO(png)) as image:
        record, width = getattr(image, "text", {}).get(PNG_KEY), image.width
    if record is None:
        return [f"a figure without its legibility record ({PNG_KEY!r}): not drawn by a chapter"]
    return shown_defects(json.loads(record), width)


def shown_defects(record: dict[str, Any], png_width: int) -> list[str]:
    """What a reader cannot read in a figure whose PNG is ``png_width`` pixels wide and carries
    ``record`` (a :class:`Legibility` as a dict): text below :data:`SMALL_PRINT_PX` once the
    page shrinks the PNG to :data:`COLUMN_PX`, legends over data, and texts over texts."""
    scale = min(1.0, COLUMN_PX / png_width)
    shown = record["smallest_text_px"] * scale
    defects = []
    if shown < SMALL_PRINT_PX:
        defects.append(
            f"figure text {shown:.1f} px high ({record['smallest_text']!r}), below the page's "
            f"small print ({SMALL_PRINT_PX:g} px): the PNG is {png_width} px wide, shown "
            f"at most {COLUMN_PX} px"
        )
    defects += [f"a legend covers the data of {name!r}" for name in record["legends_over_data"]]
    defects += [
        f"figure texts drawn over each other: {pair}" for pair in record["texts_over_texts"]
    ]
    return defects


class _PrinterWithLegibility:
    """IPython's PNG printer for figures (``original``), writing :func:`measure` into each PNG
    under :data:`PNG_KEY`."""

    def __init__(self, original: Callable[..., Any]) -> None:
        self.original = original

    def __call__(self, fig: Figure) -> Any:
        return self.original(fig, metadata=png_metadata(fig))


def record_figures_as_shown() -> bool:
    """In an IPython kernel, show figures inline in the book's type size (:data:`BOOK_RC`) with
    :func:`measure` written into each PNG; return whether it could (outside IPython it does
    nothing)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.enable_matplotlib("inline")  # what %matplotlib inline does: the PNG printer exists
    matplotlib.rcParams.update(BOOK_RC)
    formatter = shell.display_formatter.formatters["image/png"]
    original = formatter.lookup_by_type(Figure)
    if not isinstance(original, _PrinterWithLegibility):
        formatter.for_type(Figure, _PrinterWithLegibility(original))
    return True
