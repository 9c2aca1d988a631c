"""What reads results files or notebooks loads no torch: the package faces import lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LIGHT_MODULES = [
    "reid_lib.reports",
    "reid_lib.reports.intervals",
    "reid_lib.reports.significance",
    "reid_lib.reports.verdicts",
    "reid_lib.reports.records",
    "reid_lib.reports.glue",
    "reid_lib.studies",
    "reid_lib.studies.rows",
    "reid_lib.studies.cost",
    "reid_lib.engine",
    "reid_lib.engine.config",
    "reid_lib.engine.results",
    "reid_lib.models",
    "reid_lib.data",
    "tools.page_defects",
    "tools.check_site",
    "tools.run_book",
    "tools.build_site",
    "tools.strip_notebooks",
    "tools.setup_cell",
    "tools.migrate_results_v2",
]


def loaded_after(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after a fresh interpreter runs ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_module_loads_no_torch(module: str) -> None:
    assert "torch" not in loaded_after(f"import {module}")


def test_reading_the_committed_results_loads_no_torch() -> None:
    code = (
        "from reid_lib.reports import collect_results, ablation_table\n"
        "lines = collect_results('results')\n"
        "assert len(lines) > 0\n"
        "ablation_table(lines, 'cpu', 'viper')\n"
    )
    assert "torch" not in loaded_after(code)


def test_the_probe_sees_torch_when_it_is_loaded() -> None:
    assert "torch" in loaded_after("from reid_lib.engine import train\ntrain")


def test_a_face_names_what_it_exports_and_refuses_the_rest() -> None:
    import reid_lib.engine as engine

    assert "train" in dir(engine) and "load_config" in engine.__all__
    with pytest.raises(AttributeError, match=r"reid_lib.engine.*no_such_name"):
        engine.no_such_name  # noqa: B018
