"""MSMT17 (Wei et al., CVPR 2018): 4,101 ids, 15 cameras; splits are defined by list files.

Layouts (V1 and the face-masked V2)::

    MSMT17_V1/                       MSMT17_V2/
      train/<pid>/<name>.jpg           mask_train_v2/<pid>/<name>.jpg
      test/<pid>/<name>.jpg            mask_test_v2/<pid>/<name>.jpg
      list_train.txt  list_val.txt     list_train.txt  list_val.txt
      list_query.txt  list_gallery.txt list_query.txt  list_gallery.txt

Each list line is ``<pid>/<name>.jpg <label>``; the label is the pid. Names:
``<pid>_<index>_<cam>_<date><time-of-day>_<frame>_<n>[_ex].jpg``; the camera (1-15) comes from the
name. We choose to train on ``list_train`` + ``list_val`` by default, the 32,621-image training set
of the MSMT17 paper (some libraries leave ``list_val`` out: ``include_val=False``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from reid_lib.data.layout import DatasetLayoutError, resolve_root
from reid_lib.data.naming import NameRule
from reid_lib.data.records import Record, ReIDDataset

MSMT17_RULE = NameRule(
    "MSMT17",
    r"(?P<pid>\d+)_(?P<index>\d+)_(?P<cam>0*[1-9]\d*)_(?P<date>\d{4})"
    r"(?P<time>morning|noon|afternoon)_(?P<frame>\d+)_(?P<n>\d+)(?P<ex>_ex)?\.jpg",
    "'<pid>_<index>_<cam>_<date><morning|noon|afternoon>_<frame>_<n>[_ex].jpg' (cam from 1), "
    "e.g. '0000_000_01_0303morning_0015_0.jpg'",
)

IMAGE_FOLDERS = {"v1": ("train", "test"), "v2": ("mask_train_v2", "mask_test_v2")}
LIST_FILES = ("list_train.txt", "list_val.txt", "list_query.txt", "list_gallery.txt")
MSMT17_LAYOUT = """<root>/                (MSMT17_V1 or MSMT17_V2)
  train/ or mask_train_v2/   <pid>/<name>.jpg training images
  test/ or mask_test_v2/     <pid>/<name>.jpg query and gallery images
  list_train.txt  list_val.txt  list_query.txt  list_gallery.txt   lines '<pid>/<name>.jpg <pid>'"""


def parse_msmt17_name(path: Path, pid: int) -> Record:
    """Record of one MSMT17 image with the list file's ``pid``; camid 0-based from the name;
    ``index``, ``date``, ``time``, ``frame``, ``n`` in ``extra``."""
    g = MSMT17_RULE.parse(path)
    extra = {
        "index": int(g["index"]),
        "date": g["date"],
        "time": g["time"],
        "frame": int(g["frame"]),
        "n": int(g["n"]),
    }
    return Record(Path(path), pid, int(g["cam"]) - 1, extra)


def read_list_file(list_file: Path, image_folder: Path) -> list[Record]:
    """Records of the lines ``<relative path> <pid>`` of one list file.

    Raises:
        ValueError: a line is malformed (the message gives the file and line number).
        BadNameError: a listed name breaks the MSMT17 naming rule.
    """
    records = []
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit():
            raise ValueError(f"{list_file}:{number}: line {line!r} is not '<pid>/<name>.jpg <pid>'")
        records.append(parse_msmt17_name(image_folder / fields[0], int(fields[1])))
    return records


def _detect_version(root: Path) -> Literal["v1", "v2"]:
    for version, subfolders in (("v1", "MSMT17_V1"), ("v2", "MSMT17_V2")):
        for base in (root, root / subfolders):
            if all((base / folder).is_dir() for folder in IMAGE_FOLDERS[version]):
                return version
    raise DatasetLayoutError(
        f"{root} holds neither train/ + test/ (MSMT17_V1) nor mask_train_v2/ + mask_test_v2/ "
        f"(MSMT17_V2); expected layout:\n{MSMT17_LAYOUT}"
    )


def load_msmt17(
    root: str | Path, *, version: Literal["auto", "v1", "v2"] = "auto", include_val: bool = True
) -> ReIDDataset:
    """Load MSMT17 V1 or V2 from its list files (``version="auto"`` looks at the folders).

    Raises:
        DatasetLayoutError: a folder or list file is missing (the message shows the layout).
        BadNameError: a listed name breaks the naming rule.
    """
    root = Path(root)
    if version == "auto":
        resolve_root(root, (), MSMT17_LAYOUT)
        version = _detect_version(root)
    train_folder, test_folder = IMAGE_FOLDERS[version]
    base = resolve_root(
        root,
        (train_folder, test_folder),
        MSMT17_LAYOUT,
        known_subfolders=(f"MSMT17_{version.upper()}", "MSMT17"),
    )
    missing = [name for name in LIST_FILES if not (base / name).is_file()]
    if missing:
        raise DatasetLayoutError(
            f"list file {base / missing[0]} is missing; expected layout:\n{MSMT17_LAYOUT}"
        )
    train = read_list_file(base / "list_train.txt", base / train_folder)
    if include_val:
        train += read_list_file(base / "list_val.txt", base / train_folder)
    return ReIDDataset(
        "msmt17",
        base,
        train,
        read_list_file(base / "list_query.txt", base / test_folder),
        read_list_file(base / "list_gallery.txt", base / test_folder),
        protocol=f"{version.upper()} list files, train = list_train"
        + (" + list_val" if include_val else ""),
    )
