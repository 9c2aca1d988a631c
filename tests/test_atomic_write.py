"""Atomic writes: a failed write names the file, keeps the old one and leaves no temporary file."""

from __future__ import annotations

import errno

import pytest

from reid_lib.atomic_write import atomic_write


def _fails_with(error: BaseException):
    def write(fh):
        fh.write(b"half of the new")
        raise error

    return write


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), OSError),
        (RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos"), RuntimeError),
    ],
    ids=["the OS's full disk", "torch.save's full disk"],
)
def test_a_failed_write_names_the_file_and_keeps_the_old_one(tmp_path, error, raised):
    path = tmp_path / "runs" / "last.pt"
    atomic_write(path, lambda fh: fh.write(b"the old checkpoint"))
    with pytest.raises(raised, match=rf"{path} could not be written") as caught:
        atomic_write(path, _fails_with(error))
    if isinstance(error, OSError):
        assert caught.value.errno == errno.ENOSPC
    else:
        assert "bytes free on its disk" in str(caught.value), "torch's own text says nothing of it"
    assert path.read_bytes() == b"the old checkpoint"
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"], "no temporary file is left"
