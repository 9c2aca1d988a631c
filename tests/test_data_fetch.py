"""reid_lib.data.fetch (python -m data_scripts.fetch) on locally built archives served by file://
and a loopback HTTP server."""

import hashlib
import io
import json
import re
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import reid_lib.data.fetch as fetch_module
from reid_lib.data.fetch import (
    REGISTRY_PATH,
    ChecksumError,
    FetchError,
    ManualStepRequired,
    UnsafeArchiveError,
    fetch,
    load_registry,
    main,
)

FILES = {"Toy/a/0001_1.jpg": 3000, "Toy/a/0002_1.jpg": 3000, "Toy/b/0001_2.png": 3000}
EXPECTED = {"a": 2, "b": 1}


def payload(size: int, seed: int) -> bytes:
    return hashlib.sha256(str(seed).encode()).digest() * (size // 32)


def make_zip(path: Path, files=FILES, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, (name, size) in enumerate(files.items()):
            archive.writestr(name, payload(size, index))
        archive.writestr("Toy/readme.txt", "not an image")
        for name, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for index, (name, size) in enumerate(FILES.items()):
            data = payload(size, index)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for member in members:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_registry(tmp_path: Path, archive: Path | None, **override) -> Path:
    entry = {
        "title": "Toy set",
        "access": "direct",
        "page": "https://example.invalid/toy",
        "url": None,
        "archive": "toy.zip",
        "extracts_to": "Toy",
        "expected_images": EXPECTED,
        "sha256": sha256(archive) if archive else None,
        "md5": None,
        "checksum_source": "test",
        "instructions": "Ask the toy maker for toy.zip, then pass --from-archive.",
    }
    entry.update(override)
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"toy": entry}))
    return path


def assert_nothing_half_done(dest: Path) -> None:
    assert not (dest / "Toy").exists()
    assert not list(dest.glob(".fetch-*"))


class ArchiveHandler(BaseHTTPRequestHandler):
    """Serves ``server.data`` with Range support; cuts the first response after ``server.cut``."""

    def do_GET(self):
        data, start = self.server.data, 0
        self.server.ranges.append(self.headers.get("Range"))
        if self.headers.get("Range"):
            start = int(re.fullmatch(r"bytes=(\d+)-", self.headers["Range"]).group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.server.cut is not None:
            body, self.server.cut = body[: self.server.cut], None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ArchiveHandler)
    httpd.data, httpd.cut, httpd.ranges = b"", None, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_good_archive_from_file_url(tmp_path, capsys):
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, archive)
    dest = tmp_path / "dest"
    final = fetch("toy", dest, url=archive.as_uri(), registry=registry)
    assert final == dest / "Toy"
    assert sorted(str(p.relative_to(final)) for p in final.rglob("*.*")) == [
        "a/0001_1.jpg",
        "a/0002_1.jpg",
        "b/0001_2.png",
        "readme.txt",
    ]
    assert (final / "a/0002_1.jpg").read_bytes() == payload(3000, 1)
    assert not list(dest.glob(".fetch-*"))
    assert (
        f"3 images in place at {final} (archive SHA-256 {sha256(archive)})"
        in capsys.readouterr().out
    )
    # Fetching again leaves the folder alone.
    assert fetch("toy", dest, url="file:///nonexistent", registry=registry) == final


def test_good_archive_over_loopback_http(tmp_path, server):
    archive = make_zip(tmp_path / "src.zip")
    server.data = archive.read_bytes()
    registry = write_registry(tmp_path, archive)
    url = f"http://127.0.0.1:{server.server_address[1]}/toy.zip"
    assert (
        main(["toy", "--dest", str(tmp_path / "dest"), "--url", url, "--registry", str(registry)])
        == 0
    )
    assert (tmp_path / "dest/Toy/b/0001_2.png").is_file()
    assert server.ranges == [None]


def test_interrupted_download_resumes_with_range(tmp_path, server):
    archive = make_zip(tmp_path / "src.zip")
    server.data, server.cut = archive.read_bytes(), 4000
    registry = write_registry(tmp_path, archive)
    dest = tmp_path / "dest"
    url = f"http://127.0.0.1:{server.server_address[1]}/toy.zip"
    with pytest.raises(
        FetchError, match=r"broke off after 4000 of \d+ bytes; run the same command"
    ):
        fetch("toy", dest, url=url, registry=registry)
    assert (dest / "toy.zip.part").stat().st_size == 4000
    assert_nothing_half_done(dest)
    fetch("toy", dest, url=url, registry=registry)
    assert server.ranges == [None, "bytes=4000-"]
    assert (dest / "toy.zip").read_bytes() == archive.read_bytes()
    assert (dest / "Toy/a/0001_1.jpg").is_file()


def test_truncated_archive_fails_checksum_and_download_is_deleted(tmp_path):
    archive = make_zip(tmp_path / "src.zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive.read_bytes()[:5000])
    registry = write_registry(tmp_path, archive)
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError) as info:
        fetch("toy", dest, url=truncated.as_uri(), registry=registry)
    message = str(info.value)
    assert f"expected {sha256(archive)}" in message and f"actual   {sha256(truncated)}" in message
    assert "was deleted" in message
    assert not (dest / "toy.zip").exists()
    assert_nothing_half_done(dest)


def test_wrong_checksum_shows_both_hashes_and_deletes_download(tmp_path, capsys):
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, archive, sha256="ab" * 32)
    dest = tmp_path / "dest"
    argv = ["toy", "--dest", str(dest), "--url", archive.as_uri(), "--registry", str(registry)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "SHA-256 mismatch" in err and "ab" * 32 in err and sha256(archive) in err
    error = [line for line in err.splitlines() if "error:" in line]  # not the progress bar
    assert len(error) == 1 and error[0].startswith("python -m data_scripts.fetch: error:")
    with pytest.raises(FetchError, match="SHA-256 mismatch"):
        main([*argv, "--debug"])
    assert not (dest / "toy.zip").exists()
    assert_nothing_half_done(dest)


def test_wrong_checksum_keeps_the_users_own_archive(tmp_path):
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, archive, sha256="00" * 32)
    with pytest.raises(ChecksumError, match="00" * 32):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert archive.is_file()


def test_md5_only_entry_is_checked_with_md5(tmp_path):
    archive = make_zip(tmp_path / "src.zip")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    registry = write_registry(tmp_path, None, md5=md5)
    fetch("toy", tmp_path / "ok", from_archive=archive, registry=registry)
    registry = write_registry(tmp_path, None, md5="f" * 32)
    with pytest.raises(
        ChecksumError, match=f"MD5 mismatch for toy\n  expected f{{32}}.*\n  actual   {md5}"
    ):
        fetch("toy", tmp_path / "bad", from_archive=archive, registry=registry)


def test_truncated_archive_without_checksum_leaves_nothing(tmp_path):
    archive = make_tar(tmp_path / "src.tar.gz")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    registry = write_registry(tmp_path, None)
    dest = tmp_path / "dest"
    with pytest.raises(FetchError, match="corrupt or truncated"):
        fetch("toy", dest, from_archive=truncated, allow_unverified=True, registry=registry)
    assert_nothing_half_done(dest)
    assert truncated.is_file()
    truncated_zip = tmp_path / "truncated.zip"
    truncated_zip.write_bytes(make_zip(tmp_path / "z.zip").read_bytes()[:5000])
    with pytest.raises(FetchError, match="was deleted"):
        fetch("toy", dest, url=truncated_zip.as_uri(), allow_unverified=True, registry=registry)
    assert not (dest / "toy.zip").exists()
    assert_nothing_half_done(dest)


def test_no_recorded_checksum_needs_explicit_consent(tmp_path):
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, None)
    with pytest.raises(FetchError, match=f"has SHA-256 {sha256(archive)}.*--allow-unverified"):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert_nothing_half_done(tmp_path / "dest")
    fetch("toy", tmp_path / "dest", from_archive=archive, allow_unverified=True, registry=registry)
    assert (tmp_path / "dest/Toy").is_dir()


@pytest.mark.parametrize("member", ["Toy/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"])
def test_zip_with_escaping_member_is_refused(tmp_path, member):
    archive = make_zip(tmp_path / "src.zip", extra={member: b"evil"})
    registry = write_registry(tmp_path, archive)
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match=re.escape(repr(member))):
        fetch("toy", dest, from_archive=archive, registry=registry)
    assert_nothing_half_done(dest)
    assert not (tmp_path / "evil.txt").exists()


def test_tar_with_absolute_member_or_escaping_link_is_refused(tmp_path):
    absolute = tarfile.TarInfo("/tmp/evil.txt")
    absolute.size = 4
    link = tarfile.TarInfo("Toy/a/link.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
    for member in (absolute, link):
        archive = make_tar(tmp_path / "src.tar.gz", [member])
        registry = write_registry(tmp_path, archive)
        with pytest.raises(UnsafeArchiveError, match=r"absolute path or a '\.\.' component"):
            fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
        assert_nothing_half_done(tmp_path / "dest")


def test_wrong_image_counts_are_listed_and_nothing_is_moved(tmp_path):
    files = {k: v for k, v in FILES.items() if not k.endswith("0002_1.jpg")}
    archive = make_zip(tmp_path / "src.zip", files=files)
    registry = write_registry(tmp_path, archive, expected_images={**EXPECTED, "c": 5})
    with pytest.raises(FetchError) as info:
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert "a/: expected 2 images, found 1 images" in str(info.value)
    assert "c/: expected 5 images, found missing" in str(info.value)
    assert_nothing_half_done(tmp_path / "dest")


def test_archive_without_the_top_folder(tmp_path):
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, archive, extracts_to="Other")
    with pytest.raises(
        UnsafeArchiveError,
        match=r"member 'Toy/a/0001_1\.jpg' is not under the dataset's folder Other/",
    ):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert not list((tmp_path / "dest").glob("*"))


def test_a_file_beside_the_dataset_folder_is_refused(tmp_path):
    archive = make_zip(tmp_path / "src.zip", extra={"run_me.sh": b"echo hi"})
    registry = write_registry(tmp_path, archive)
    with pytest.raises(UnsafeArchiveError, match=r"member 'run_me\.sh' is not under .* Toy/"):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert_nothing_half_done(tmp_path / "dest")


def test_an_archive_bomb_is_refused_before_anything_is_written(tmp_path):
    """20 MB of zeros deflate to about 20 KB: a thousand times the archive's size unpacked."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("Toy/a/0001_1.jpg", b"\0" * (20 << 20))
    registry = write_registry(tmp_path, archive)
    with pytest.raises(UnsafeArchiveError, match=r"times its own size unpacked, more than 100"):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert_nothing_half_done(tmp_path / "dest")


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        ("MAX_MEMBERS", 2, r"4 members, more than 2"),
        ("MAX_UNPACKED_BYTES", 100, r"bytes unpacked, more than 100"),
    ],
)
def test_the_member_and_size_limits_hold(tmp_path, monkeypatch, limit, value, message):
    monkeypatch.setattr(fetch_module, limit, value)
    archive = make_zip(tmp_path / "src.zip")
    registry = write_registry(tmp_path, archive)
    with pytest.raises(UnsafeArchiveError, match=message):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)
    assert_nothing_half_done(tmp_path / "dest")


def test_a_link_inside_the_tree_is_refused_too(tmp_path):
    link = tarfile.TarInfo("Toy/a/0003_1.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "0001_1.jpg"
    archive = make_tar(tmp_path / "src.tar.gz", [link])
    registry = write_registry(tmp_path, archive)
    with pytest.raises(UnsafeArchiveError, match=r"member 'Toy/a/0003_1\.jpg' is a link"):
        fetch("toy", tmp_path / "dest", from_archive=archive, registry=registry)


def test_manual_entry_prints_instructions_and_exits_2(tmp_path, capsys):
    registry = write_registry(tmp_path, None)
    assert main(["toy", "--dest", str(tmp_path / "dest"), "--registry", str(registry)]) == 2
    assert "Ask the toy maker for toy.zip" in capsys.readouterr().err
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize(
    ("name", "words"),
    [("dukemtmc_reid", "withdrawn"), ("msmt17", "agreement"), ("msmt17_v2", "agreement")],
)
def test_restricted_datasets_say_how_to_obtain_them(tmp_path, name, words):
    with pytest.raises(ManualStepRequired) as info:
        fetch(name, tmp_path)
    assert words in str(info.value) and f"fetch {name} --dest DIR --from-archive" in str(info.value)


def test_recorded_registry_is_well_formed():
    entries = load_registry(REGISTRY_PATH)
    assert {
        "market1501",
        "dukemtmc_reid",
        "msmt17",
        "viper",
        "prid2011",
        "grid",
        "caviar4reid",
    } <= set(entries)
    for entry in entries.values():
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.md5 is None or re.fullmatch(r"[0-9a-f]{32}", entry.md5)
        assert entry.checksum_source and entry.instructions
        assert entry.url is not None or entry.access != "direct"
        assert all(count > 0 for count in entry.expected_images.values())


def test_a_broken_registry_names_the_file_and_the_entry(tmp_path):
    entries = json.loads(REGISTRY_PATH.read_text())
    entries["viper"]["mirror"] = "https://example.org"
    registry = tmp_path / "datasets.json"
    registry.write_text(json.dumps(entries))
    with pytest.raises(ValueError, match=rf"registry {registry}: entry 'viper' does not have"):
        load_registry(registry)
    registry.write_text("{not json")
    with pytest.raises(ValueError, match=rf"registry {registry}: not valid JSON"):
        load_registry(registry)


def test_unknown_dataset(tmp_path):
    with pytest.raises(FetchError, match="unknown dataset 'cuhk03'"):
        fetch("cuhk03", tmp_path)


def test_a_small_benchmark_lands_where_the_loaders_read_it(tmp_path):
    """``--dest`` is the data root: VIPeR goes to ``peta-reid/VIPeR`` and loads from there."""
    from PIL import Image

    from reid_lib.data import build_dataset
    from reid_lib.data.registry import dataset_folder

    source = tmp_path / "viper.zip"
    with zipfile.ZipFile(source, "w") as archive:
        for pid in range(4):
            for cam, angle in (("cam_a", 0), ("cam_b", 90)):
                image = io.BytesIO()
                Image.new("RGB", (48, 128), (pid * 60, 10, 200)).save(image, format="BMP")
                archive.writestr(f"VIPeR/{cam}/{pid:03d}_{angle}.bmp", image.getvalue())
    registry = tmp_path / "registry.json"
    entry = json.loads(write_registry(tmp_path, source).read_text())["toy"]
    entry |= {"archive": "viper.zip", "extracts_to": "VIPeR"}
    entry["expected_images"] = {"cam_a": 4, "cam_b": 4}
    registry.write_text(json.dumps({"viper": entry}))
    root = tmp_path / "data-root"
    final = fetch("viper", root, from_archive=source, registry=registry)
    assert final == root / "peta-reid" / "VIPeR" == root / dataset_folder("viper")
    data = build_dataset("viper", final, split_index=0)
    assert data.num_train_pids == 2 and len(data.query) == 2
