"""Execute the book's chapters with papermill and collect their results files.

Usage::

    python -m tools.run_book --profile PROFILE [--chapters NAME ...] [-p KEY VALUE ...]
                             [--set KEY=VALUE ...] [--kernel NAME]

Chapters come from ``_toc.yml`` in its order, except those whose notebook metadata sets
``reid_book.run_last`` (the introduction, which summarises the others' results): they run after
the rest. Executed copies go to ``_build/executed/book/<name>.ipynb``, each chapter's results
file to ``_build/results/<profile>/<name>.json``, and a summary of the run (seconds per chapter,
every chapter's numbers) to ``_build/executed/run.json``. The exit status is 1 when any chapter
fails; the message names the chapter and the cell. ``-p`` sets a chapter parameter, ``--set`` a
config override of every chapter's runs (``--set model.pretrained=null``), ``--kernel`` the
Jupyter kernel that runs them (to run the chapters in another virtual environment, such as one
with Colab's pinned packages: ``docs/gpu_and_ci.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import papermill as pm
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from papermill.exceptions import PapermillExecutionError

from reid_lib.book.notebook_files import read_notebook
from reid_lib.book.paths import BATCH_ENV, BUILD, ROOT
from reid_lib.engine.config import load_config
from reid_lib.errors import run_reported
from reid_lib.json_files import read_json
from reid_lib.studies.profiles import PROFILES, get_profile

TOC = ROOT / "_toc.yml"
#: The kernel papermill starts: the Python that runs this script, unless ``--kernel`` names another.
DEFAULT_KERNEL = "python3"
EXECUTED = BUILD / "executed"
RESULTS = BUILD / "results"


def check_kernel(name: str) -> None:
    """Raise ValueError unless Jupyter knows a kernel ``name`` (the message lists the known ones;
    ``python -m ipykernel install --prefix VENV --name NAME`` registers one, found through
    ``JUPYTER_PATH=VENV/share/jupyter``)."""
    specs = KernelSpecManager().find_kernel_specs()
    if name not in specs:
        raise ValueError(
            f"--kernel {name!r}: no such Jupyter kernel; expected one of {sorted(specs)}"
        )


def toc_files(toc: Path = TOC) -> list[str]:
    """The notebook paths (relative to the repository root, without suffix) that ``toc`` lists."""
    data = yaml.safe_load(toc.read_text())
    files = [data["root"]]
    for part in data.get("parts", [{"chapters": data.get("chapters") or []}]):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def toc_notebooks(toc: Path = TOC) -> list[str]:
    """The entries of :func:`toc_files` that are chapters (notebooks), not Markdown pages."""
    return [f for f in toc_files(toc) if not (ROOT / f"{f}.md").is_file()]


def resolve_chapters(names: Sequence[str] | None, toc: Path = TOC) -> list[Path]:
    """Notebook paths for ``names`` (chapter stems or ``.ipynb`` paths); all of the toc for None.

    Raises:
        ValueError: a name is neither a chapter of the toc nor an existing notebook.
    """
    listed = {Path(f).name: ROOT / f"{f}.ipynb" for f in toc_notebooks(toc)}
    if not names:
        return list(listed.values())
    paths = []
    for name in names:
        if name in listed:
            paths.append(listed[name])
        elif name.endswith(".ipynb") and Path(name).is_file():
            paths.append(Path(name).resolve())
        else:
            raise ValueError(
                f"unknown chapter {name!r}: expected one of {sorted(listed)} or a .ipynb file"
            )
    return paths


def runs_last(notebook: Path) -> bool:
    """Whether the notebook's metadata asks to run after the other chapters."""
    meta = read_notebook(notebook).metadata
    return bool(meta.get("reid_book", {}).get("run_last", False))


def parse_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``-p KEY VALUE`` pairs to a dict; values parsed as YAML (``3`` -> 3, ``null`` -> None).

    Raises:
        ValueError: a value that is not YAML, naming its parameter.
    """
    parameters = {}
    for key, value in pairs:
        try:
            parameters[key] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = getattr(err, "problem", None) or err
            raise ValueError(f"-p {key} {value!r}: not a YAML value ({problem})") from None
    return parameters


@dataclass
class ChapterRun:
    """What happened to one chapter."""

    name: str
    seconds: float
    executed: Path
    results: dict[str, Any] | None = None
    error: str | None = None


def describe_failure(name: str, exc: PapermillExecutionError, executed: Path) -> str:
    """One line naming the chapter, the cell and the exception."""
    return (
        f"chapter {name!r} failed in cell {exc.cell_index} (execution count {exc.exec_count}): "
        f"{exc.ename}: {exc.evalue} -- see {executed}"
    )


def last_started_cell(executed: Path) -> int | None:
    """Index of the last cell papermill started in the executed copy (None if none started)."""
    if not executed.is_file():
        return None
    cells = read_notebook(executed).cells
    started = [i for i, c in enumerate(cells) if c.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def run_chapter(
    notebook: Path,
    parameters: dict[str, Any],
    executed_dir: Path,
    results_dir: Path,
    cell_timeout: int | None = None,
    kernel: str = DEFAULT_KERNEL,
) -> ChapterRun:
    """Execute one chapter with the Jupyter kernel ``kernel`` and read the results file it must
    write."""
    name = notebook.stem
    executed = executed_dir / "book" / notebook.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / f"{name}.json"
    results_path.unlink(missing_ok=True)
    shown = results_dir.resolve()  # relative in the executed copy when inside the checkout
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    began = time.perf_counter()
    try:
        pm.execute_notebook(
            notebook,
            executed,
            parameters={**parameters, "results_dir": str(shown)},
            kernel_name=kernel,
            progress_bar=False,
            cwd=str(ROOT),
            execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        seconds = time.perf_counter() - began
        return ChapterRun(name, seconds, executed, error=describe_failure(name, exc, executed))
    except Exception as exc:  # a timeout or a dead kernel: no cell raised, one was running
        seconds = time.perf_counter() - began
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        error = (
            f"chapter {name!r} stopped in cell {last_started_cell(executed)}: "
            f"{type(exc).__name__}: {first_line} -- see {executed}"
        )
        return ChapterRun(name, seconds, executed, error=error)
    seconds = time.perf_counter() - began
    if not results_path.is_file():
        error = f"chapter {name!r} ran but did not write its results file {results_path}"
        return ChapterRun(name, seconds, executed, error=error)
    results = read_json(results_path, "chapter results file")
    return ChapterRun(name, seconds, executed, results=results)


def run_book(
    notebooks: Sequence[Path],
    parameters: dict[str, Any],
    executed_dir: Path = EXECUTED,
    results_dir: Path | None = None,
    cell_timeout: int | None = None,
    kernel: str = DEFAULT_KERNEL,
) -> list[ChapterRun]:
    """Execute ``notebooks`` (``run_last`` ones at the end) and write ``run.json`` beside them.

    ``cell_timeout`` defaults to the profile's (``reid_lib.studies.profiles``); ``kernel`` is the
    Jupyter kernel that runs them (:func:`check_kernel`).
    """
    results_dir = results_dir or RESULTS / str(parameters["profile"])
    if cell_timeout is None:
        # A hung kernel must not hang CI: a cell that runs too long fails its chapter.
        cell_timeout = get_profile(str(parameters["profile"])).cell_timeout_s
    ordered = sorted(notebooks, key=runs_last)
    # Kernels run without a frontend (widgets stay off) and import ``book`` and ``reid_lib``
    # from this checkout, whatever is installed.
    os.environ[BATCH_ENV] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    runs = []
    for notebook in ordered:
        print(f"[tools.run_book] {notebook.stem} ...", flush=True)
        run = run_chapter(notebook, parameters, executed_dir, results_dir, cell_timeout, kernel)
        print(
            f"[tools.run_book] {notebook.stem}: {run.error or 'ok'} ({run.seconds:.1f} s)",
            flush=True,
        )
        runs.append(run)
    summary = {
        "parameters": parameters,
        "chapters": {
            r.name: {"seconds": round(r.seconds, 2), "error": r.error, "results": r.results}
            for r in runs
        },
    }
    executed_dir.mkdir(parents=True, exist_ok=True)
    (executed_dir / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    return runs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_book", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", choices=list(PROFILES), default="smoke")
    parser.add_argument(
        "--chapters", nargs="+", metavar="NAME", help="chapter stems or .ipynb paths (default: all)"
    )
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a chapter parameter (dataset, data_root, device, epochs, seed), value as YAML",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="overrides",
        metavar="KEY=VALUE",
        help="a config override for every chapter (repeatable), e.g. --set model.pretrained=null",
    )
    parser.add_argument("--output-dir", type=Path, default=EXECUTED, help="executed notebooks")
    parser.add_argument("--results-dir", type=Path, help="default: _build/results/<profile>")
    parser.add_argument(
        "--cell-timeout", type=int, help="seconds per cell (default: the profile's)"
    )
    parser.add_argument(
        "--kernel",
        default=DEFAULT_KERNEL,
        help="the Jupyter kernel that runs the chapters (default: %(default)s), e.g. one "
        "registered from a virtual environment with Colab's pinned packages",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every chapter ran, 1 when one failed (each named), 2 on bad input."""
    args = build_parser().parse_args(argv)

    def run() -> int:
        for name, option in (("profile", "--profile"), ("overrides", "--set")):
            if name in dict(args.parameter):
                raise ValueError(f"-p {name}: give it with {option}, not -p {name}")
        parameters = {"profile": args.profile, **parse_parameters(args.parameter)}
        if args.overrides:
            load_config(args.profile, args.overrides)  # a bad key fails here, not in a chapter
            parameters["overrides"] = list(args.overrides)
        check_kernel(args.kernel)
        notebooks = resolve_chapters(args.chapters)
        runs = run_book(
            notebooks,
            parameters,
            args.output_dir,
            args.results_dir,
            args.cell_timeout,
            args.kernel,
        )
        failures = [r.error for r in runs if r.error]
        for line in failures:
            print(f"[tools.run_book] FAILED {line}", file=sys.stderr)
        return 1 if failures else 0

    return run_reported("python -m tools.run_book", run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
