"""Reading a chapter notebook with an error that names the file.

``nbformat.read`` reports a damaged notebook as ``Notebook does not appear to be JSON: '{...'``
(or a bare ``KeyError``), without saying which file; the tools and the glue check read notebooks
through :func:`read_notebook` instead.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """``nbformat.read(path, as_version=4)``.

    Raises:
        ValueError: the file is not a Jupyter notebook (not JSON, or not a notebook's structure);
            the message names it.
        OSError: the file cannot be read (the message names it).
    """
    try:
        return nbformat.read(path, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise ValueError(f"{path}: not a readable Jupyter notebook ({reason})") from None
