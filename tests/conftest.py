"""Fixtures shared by several test files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.check_site import find_chromium


@pytest.fixture(autouse=True)
def splits_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The protocol splits' cache (``REID_SPLITS_DIR``) in a temporary folder of the session, not
    under the user's home."""
    folder = tmp_path_factory.getbasetemp() / "splits-cache"
    monkeypatch.setenv("REID_SPLITS_DIR", str(folder))
    return folder


@pytest.fixture
def chromium() -> Path:
    """The headless browser the site checks drive (:func:`tools.check_site.find_chromium`): a skip
    where it is not installed, a failure where ``BOOK_BROWSER_REQUIRED`` is set (``make test``
    installs it and sets that)."""
    try:
        return find_chromium()
    except FileNotFoundError:
        if os.environ.get("BOOK_BROWSER_REQUIRED"):
            pytest.fail("chromium is not installed (make test installs it: `make browser`)")
        pytest.skip("chromium is not installed; `make browser` installs it")
