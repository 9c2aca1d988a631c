"""Obtain a dataset archive, check it, and unpack it into place in one atomic step.

``python -m data_scripts.fetch NAME --dest DIR [--url URL] [--from-archive FILE]
[--allow-unverified] [--registry FILE]``

1. The archive is downloaded to ``DIR/<archive>`` with a progress bar (``DIR/<archive>.part``
   while incomplete; running the command again resumes it with an HTTP ``Range`` request), or taken
   from ``--from-archive``.
2. Its checksum is compared with the one recorded in ``reid_lib/data/datasets.json``: the SHA-256,
   or, where only a third-party MD5 is known, that MD5. A mismatch shows both hashes and deletes the
   download. Where no checksum is recorded (none is published for these sets) the command stops
   and prints the archive's SHA-256, unless ``--allow-unverified`` is given.
3. Members with absolute paths, ``..`` components, links or device files, members outside the
   dataset's one top folder, and contents over the limits (more than ``MAX_MEMBERS`` members, more
   than ``MAX_UNPACKED_BYTES`` unpacked, or more than ``MAX_RATIO`` times the archive's size) are
   refused before anything is written.
4. The archive is extracted into a temporary folder inside ``DIR`` (same filesystem), the image
   counts of each folder are checked, and only then is the dataset folder renamed into place. An
   interrupted or corrupt archive therefore never leaves a half dataset in ``DIR``.

``DIR`` is the data root (what ``$REID_DATA_ROOT`` and the chapters' ``data_root`` name): the
dataset lands in the folder the loaders read under it, ``DIR/peta-reid/VIPeR`` for the small
benchmarks and the archive's own folder (``DIR/Market-1501-v15.09.15``) for the large ones.

Withdrawn or restricted datasets (DukeMTMC-reID, MSMT17) cannot be downloaded: the command prints
how to obtain them and exits with status 2; pass the archive you hold with ``--from-archive``.
``--registry`` reads another registry file in the same format (tests use it; so can you, to record
your own checksums).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from reid_lib.data.layout import IMAGE_SUFFIXES
from reid_lib.data.registry import REGISTRY_PATH, DatasetEntry, load_registry
from reid_lib.errors import EXIT_USAGE, USER_ERRORS, report

CHUNK_BYTES = 1 << 20
#: Extraction limits (ours): MSMT17, the largest set, has about 126,000 images in 2.5 GB.
MAX_MEMBERS = 1_000_000
MAX_UNPACKED_BYTES = 64 << 30
MAX_RATIO = 100


class FetchError(RuntimeError):
    """The dataset could not be put in place; nothing half-done is left in the destination."""


class ChecksumError(FetchError):
    """The archive's hash differs from the recorded one."""


class UnsafeArchiveError(FetchError):
    """An archive member would be written outside the extraction folder."""


class ManualStepRequired(FetchError):
    """The dataset cannot be downloaded automatically; the message says how to obtain it."""


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of the file at ``path`` with ``hashlib`` algorithm ``algorithm``."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path) -> Path:
    """Download ``url`` to ``target``, resuming ``<target>.part`` if an earlier run left one.

    Raises:
        FetchError: the server refused or the transfer broke off; the ``.part`` file is kept so
            that the next run resumes.
    """
    partial = target.with_name(target.name + ".part")
    done = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        if err.code == 416 and done:  # nothing left to send: the part file is complete
            return partial.replace(target)
        raise FetchError(f"download of {url} failed: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise FetchError(f"cannot download {url}: {err}") from err
    with response:
        resumed = done > 0 and getattr(response, "status", None) == 206
        if done and not resumed:
            print(f"{url} does not resume downloads; starting {target.name} over", file=sys.stderr)
            done = 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length is not None else None
        received = done
        with (
            partial.open("ab" if resumed else "wb") as out,
            tqdm(
                total=total,
                initial=done,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=target.name,
            ) as bar,
        ):
            try:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except OSError as err:  # includes http.client.IncompleteRead and timeouts
                raise FetchError(
                    f"download of {url} broke off after {received} bytes ({err}); "
                    f"run the same command again to resume"
                ) from err
    if total is not None and received != total:
        raise FetchError(
            f"download of {url} broke off after {received} of {total} bytes; "
            f"run the same command again to resume"
        )
    return partial.replace(target)


def check_checksum(archive: Path, entry: DatasetEntry, *, allow_unverified: bool) -> str:
    """Compare ``archive`` with the recorded checksum; return the archive's SHA-256.

    Raises:
        ChecksumError: the hash differs (the message shows both).
        FetchError: no checksum is recorded and ``allow_unverified`` is false.
    """
    sha256 = file_digest(archive, "sha256")
    if entry.sha256:
        expected, actual, kind = entry.sha256.lower(), sha256, "SHA-256"
    elif entry.md5:
        expected, actual, kind = entry.md5.lower(), file_digest(archive, "md5"), "MD5"
    elif allow_unverified:
        print(f"warning: no checksum is recorded for {entry.name}; accepted unverified")
        return sha256
    else:
        raise FetchError(
            f"no checksum is recorded for {entry.name} ({entry.checksum_source}). "
            f"{archive} has SHA-256 {sha256}. If you trust this file, run again with "
            f"--allow-unverified, and consider recording the hash in the registry."
        )
    if actual != expected:
        raise ChecksumError(
            f"{archive}: {kind} mismatch for {entry.name}\n"
            f"  expected {expected} ({entry.checksum_source if kind == 'MD5' else 'registry'})\n"
            f"  actual   {actual}"
        )
    return sha256


def check_member(name: str, archive: Path, link: str | None = None) -> None:
    """Refuse a member path (or link target) that is absolute or has a ``..`` component."""
    for value in (name, link or ""):
        path = PurePosixPath(value.replace("\\", "/"))
        if path.is_absolute() or re.match(r"^[A-Za-z]:", value) or ".." in path.parts:
            shown = f"member {name!r}" + (f" (a link to {link!r})" if link else "")
            raise UnsafeArchiveError(
                f"{archive}: {shown} has an absolute path or a '..' component; "
                f"refusing to extract anything"
            )


def check_contents(archive: Path, names: list[str], sizes: list[int], top: str | None) -> None:
    """Refuse an archive whose members exceed the limits or lie outside its top folder.

    Limits (ours, far above the real datasets'): :data:`MAX_MEMBERS` members,
    :data:`MAX_UNPACKED_BYTES` unpacked in all, :data:`MAX_RATIO` unpacked bytes per archive byte.

    Raises:
        UnsafeArchiveError: naming the limit or the member.
    """
    unpacked, packed = sum(sizes), max(archive.stat().st_size, 1)
    limits = (
        (len(names) <= MAX_MEMBERS, f"{len(names)} members, more than {MAX_MEMBERS}"),
        (
            unpacked <= MAX_UNPACKED_BYTES,
            f"{unpacked} bytes unpacked, more than {MAX_UNPACKED_BYTES}",
        ),
        (
            unpacked <= MAX_RATIO * packed,
            f"{unpacked / packed:.0f} times its own size unpacked, more than {MAX_RATIO}",
        ),
    )
    for holds, what in limits:
        if not holds:
            raise UnsafeArchiveError(f"{archive}: {what}; refusing to extract anything")
    outside = [n for n in names if top and PurePosixPath(n).parts[:1] != (top,)]
    if outside:
        raise UnsafeArchiveError(
            f"{archive}: member {outside[0]!r} is not under the dataset's folder {top}/ "
            f"({len(outside)} such); refusing to extract anything"
        )


def extract_archive(archive: Path, into: Path, top: str | None = None) -> None:
    """Extract a zip or tar archive into ``into`` after checking every member.

    ``top``: the one top-level folder the archive may hold (None: any).

    Raises:
        UnsafeArchiveError: a member would land outside ``into`` or ``top``, is a link or a
            device, or the contents exceed the limits of :func:`check_contents` (nothing is
            extracted).
        FetchError: the archive is truncated, corrupt or of an unknown format.
    """
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                infos = zipped.infolist()
                for info in infos:
                    check_member(info.filename, archive)
                    if stat.S_ISLNK(info.external_attr >> 16):
                        raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a link")
                names = [i.filename for i in infos if not i.is_dir()]
                check_contents(archive, names, [i.file_size for i in infos], top)
                zipped.extractall(into)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tarred:
                members = tarred.getmembers()
                for member in members:
                    check_member(member.name, archive, member.linkname or None)
                    if member.isdev() or member.issym() or member.islnk():
                        kind = "a device" if member.isdev() else "a link"
                        raise UnsafeArchiveError(f"{archive}: member {member.name!r} is {kind}")
                names = [m.name for m in members if not m.isdir()]
                check_contents(archive, names, [m.size for m in members], top)
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tarred.extractall(into, members=members, **extra)
        else:
            raise FetchError(
                f"{archive} is not a readable zip or tar archive (truncated or corrupt?)"
            )
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as err:
        raise FetchError(f"{archive} is corrupt or truncated: {err}") from err


def count_images(folder: Path) -> int:
    """Number of image files under ``folder``, at any depth."""
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def check_counts(top: Path, expected: dict[str, int]) -> int:
    """Check the image count of each folder under ``top``; return the total.

    Raises:
        FetchError: a folder is missing or holds a different number of images (all listed).
    """
    problems, total = [], 0
    for relative, wanted in expected.items():
        folder = top / relative
        found = count_images(folder) if folder.is_dir() else None
        total += found or 0
        if found != wanted:
            state = "missing" if found is None else f"{found} images"
            problems.append(f"  {relative}/: expected {wanted} images, found {state}")
    if problems:
        raise FetchError("the archive does not hold the expected images:\n" + "\n".join(problems))
    return total


def fetch(
    name: str,
    dest: str | Path,
    *,
    url: str | None = None,
    from_archive: str | Path | None = None,
    allow_unverified: bool = False,
    registry: str | Path = REGISTRY_PATH,
) -> Path:
    """Put dataset ``name`` in place under the data root ``dest`` (see the module doc), in the
    folder the loaders and the book read (``reid_lib.data.registry.dataset_folder``: e.g.
    ``dest/peta-reid/VIPeR``, ``dest/Market-1501-v15.09.15``); return that folder.

    Raises:
        ManualStepRequired: no url and no archive; the message says how to obtain one.
        ChecksumError, UnsafeArchiveError, FetchError: see the module doc.
    """
    entries = load_registry(registry)
    if name not in entries:
        raise FetchError(f"unknown dataset {name!r}; expected one of {', '.join(sorted(entries))}")
    entry = entries[name]
    dest = Path(dest)
    final = dest / entry.folder
    if final.exists():
        print(f"{final} already exists; delete it to fetch {name} again")
        return final
    if from_archive is not None:
        archive = Path(from_archive)
        if not archive.is_file():
            raise FetchError(f"--from-archive {archive}: no such file")
        downloaded = False
    else:
        url = url or entry.url
        if url is None:
            raise ManualStepRequired(
                f"{entry.title} cannot be downloaded automatically ({entry.access}).\n"
                f"{entry.instructions}\nDataset page: {entry.page}"
            )
        archive = dest / entry.archive
        downloaded = True
        if not archive.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            download(url, archive)
    try:
        sha256 = check_checksum(archive, entry, allow_unverified=allow_unverified)
    except ChecksumError as err:
        if downloaded:
            archive.unlink()
            raise ChecksumError(f"{err}\nthe download {archive} was deleted") from err
        raise
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{name}-", dir=dest))
    try:
        try:
            extract_archive(archive, staging, entry.extracts_to)
        except FetchError as err:
            if downloaded and not isinstance(err, UnsafeArchiveError):
                archive.unlink()
                raise FetchError(f"{err}\nthe download {archive} was deleted") from err
            raise
        top = staging / entry.extracts_to
        if not top.is_dir():
            found = sorted(p.name for p in staging.iterdir())
            raise FetchError(f"{archive} has no top folder {entry.extracts_to}/ (it holds {found})")
        total = check_counts(top, entry.expected_images)
        final.parent.mkdir(parents=True, exist_ok=True)
        top.replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"{entry.title}: {total} images in place at {final} (archive SHA-256 {sha256})")
    return final


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module doc); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m data_scripts.fetch",
        description="Download (or take), check and unpack a ReID dataset archive atomically.",
    )
    parser.add_argument("name", help="dataset name in the registry, e.g. market1501, viper")
    parser.add_argument(
        "--dest",
        required=True,
        type=Path,
        help="the data root ($REID_DATA_ROOT); the dataset goes to its folder under it",
    )
    parser.add_argument("--url", help="download from this url instead of the recorded one")
    parser.add_argument("--from-archive", type=Path, help="use this archive instead of downloading")
    parser.add_argument(
        "--allow-unverified",
        action="store_true",
        help="accept an archive for which no checksum is recorded",
    )
    parser.add_argument(
        "--registry", type=Path, default=REGISTRY_PATH, help="registry file (default: %(default)s)"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    args = parser.parse_args(argv)
    try:
        fetch(
            args.name,
            args.dest,
            url=args.url,
            from_archive=args.from_archive,
            allow_unverified=args.allow_unverified,
            registry=args.registry,
        )
    except ManualStepRequired as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    except USER_ERRORS as err:
        if args.debug:
            raise
        return report("python -m data_scripts.fetch", err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
