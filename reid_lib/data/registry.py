"""The registry of real datasets (``datasets.json``): where each comes from and how it unpacks.

``data_scripts.fetch`` downloads and checks archives from it; :func:`dataset_folder` says where
a dataset sits under the data root. Its ``_``-prefixed keys are notes on the fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reid_lib.json_files import read_json

REGISTRY_PATH = Path(__file__).with_name("datasets.json")
# Where the small real benchmarks sit under the data root (the layout of the project's shared
# data folder); the large ones sit in the folder their archive extracts to (``extracts_to``).
SMALL_REAL_SETS = {
    "viper": "peta-reid/VIPeR",
    "prid2011": "peta-reid/PRID",
    "grid": "peta-reid/GRID",
    "caviar4reid": "peta-reid/CAVIAR4REID",
}


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of the registry (see ``datasets.json`` for the meaning of each field)."""

    name: str
    title: str
    access: str
    page: str
    url: str | None
    archive: str
    extracts_to: str
    expected_images: dict[str, int]
    sha256: str | None
    md5: str | None
    checksum_source: str
    instructions: str

    @property
    def folder(self) -> str:
        """Where the dataset sits under the data root: a small benchmark's folder of
        :data:`SMALL_REAL_SETS`, else the folder its archive extracts to."""
        return SMALL_REAL_SETS.get(self.name, self.extracts_to)


def load_registry(path: str | Path = REGISTRY_PATH) -> dict[str, DatasetEntry]:
    """The datasets recorded in the registry file at ``path``.

    Raises:
        ValueError: the file is not JSON, or an entry lacks a field or has one the registry does
            not know (the file and the entry are named).
    """
    content = read_json(path, "registry")
    entries = {}
    for name, fields in content.items():
        if name.startswith("_"):
            continue
        try:
            entries[name] = DatasetEntry(name=name, **fields)
        except TypeError as err:
            raise ValueError(
                f"registry {path}: entry {name!r} does not have the registry's fields "
                f"({err}); see the '_'-prefixed notes in {REGISTRY_PATH.name}"
            ) from None
    return entries


#: The joint set of the small benchmarks reads each from its own folder under the data root.
JOINT_FOLDER = "."


def dataset_folder(name: str) -> str:
    """Folder of real dataset ``name`` relative to the data root (``""``: the root itself)."""
    if name == "joint":
        return JOINT_FOLDER
    if name in SMALL_REAL_SETS:
        return SMALL_REAL_SETS[name]
    entry = load_registry().get(name)
    return entry.folder if entry is not None else ""
