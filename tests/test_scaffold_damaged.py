"""``surveytools init`` on a damaged .sav: the structure check's named error, never a crash.

The scaffold reads SPSS files with pyreadstat directly (metadata first, then
the columns worth inspecting), so it must walk the file's structure
(``surveytools.loading.savcheck.check_sav``) before ReadStat opens it.  The
byte flips are those of issue 10 in ``data/tracker/wave2021.sav`` (each once
killed the C reader) and one in the data of a compressed file; ``init`` runs
in a child process (and so does ``read_file``) so that a segmentation fault
fails the test instead of killing pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from surveytools.core.errors import FileFormatError
from surveytools.loading.savcheck import check_sav
from surveytools.scaffold.files import read_file

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "tracker" / "wave2021.sav"

#: (offset, new byte): the flips of issue 10, and a truncation of the data.
FLIPS = [(1934, 0xAF), (606, 0x14)]


def _damaged(folder: Path, offset: int | None, value: int | None) -> Path:
    raw = bytearray(SOURCE.read_bytes())
    if offset is None:
        raw = raw[:len(raw) - 1000]           # cut inside the compressed data
    else:
        raw[offset] = value
    path = folder / "wave2021.sav"
    path.write_bytes(bytes(raw))
    return path


CASES = [*FLIPS, (None, None)]
IDS = [f"byte {o} = {v:#x}" for o, v in FLIPS] + ["truncated"]


#: Runs in a child: read_file on argv[1], printing the error it raises (a crash: no output).
_READ = """
import sys
from surveytools.scaffold.files import read_file
from surveytools.core.errors import FileFormatError
try:
    read_file(sys.argv[1])
except FileFormatError as error:
    print(str(error))
else:
    print("no error")
"""
_CLI = "import sys; from surveytools.cli import main; sys.exit(main(sys.argv[1:]))"


def _child(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("offset, value", CASES, ids=IDS)
def test_read_file_gives_the_structure_error(tmp_path, offset, value):
    path = _damaged(tmp_path, offset, value)
    with pytest.raises(FileFormatError) as expected:
        check_sav(path)
    done = _child(_READ, str(path))
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip() == str(expected.value)


@pytest.mark.parametrize("offset, value", CASES, ids=IDS)
def test_init_exits_with_the_named_error(tmp_path, offset, value):
    path = _damaged(tmp_path, offset, value)
    with pytest.raises(FileFormatError) as expected:
        check_sav(path)
    done = _child(_CLI, "init", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert str(expected.value) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_sound_file_still_scaffolds(tmp_path):
    found = read_file(SOURCE)
    assert found.rows == check_sav(SOURCE).rows and "weight" in found.numeric
