"""Fixtures shared by several test files."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture
def chromium() -> str:
    """The path of the headless browser the site checks drive: a skip where it is not installed,
    a failure where ``BOOK_BROWSER_REQUIRED`` is set (``make test`` installs it and sets that)."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("BOOK_BROWSER_REQUIRED"):
            pytest.fail("chromium is not installed (make test installs it: `make browser`)")
        pytest.skip("chromium is not installed; `make browser` installs it")
    return path
