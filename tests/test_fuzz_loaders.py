"""Damaged files never kill or fool the loaders: a corpus of faults, each case asserted.

The corpus is generated here, seeded, from files this module writes (plus
the example tracker's ``wave2021.sav``): truncations at many offsets and
single-byte changes (``byte ^ k``, k != 0) at seeded offsets of

* ``tracker.sav``  the example ``data/tracker/wave2021.sav`` (bytecode-compressed),
* ``w.zsav``       ZLIB-compressed SPSS (pyreadstat), with labels and user-missing,
* ``w.sav``        uncompressed SPSS with a 600-character string (segments),
* ``w.por``        SPSS portable, written by :func:`write_por` below,
* ``w.dta``        Stata 119 (pyreadstat),
* ``w.csv``, ``w.csv.gz`` and their JSON codebook ``w.codebook.json``,

plus the CSV and codebook faults of the issue (a row with too few fields, a
file cut mid-row, an unterminated quote, ``inf`` and ``1e400``, two labels
for one code) and weights of -0, a subnormal, a huge number and inf.

Every case is read with ``st.read_wave(..., cache=False)`` in a worker
process (two at a time), so that a crash is reported as that case's failure
instead of killing pytest.  Each outcome is one of

``named``         a SurveyError (FileFormatError, DataError, ...) whose message
                  names the file and says how to fix it;
``no effect``     the file reads exactly as the original (the byte was padding,
                  a creation date, a product name, ... or the cut removed only
                  trailing padding);
``undetectable``  the file reads with a difference that a structurally valid
                  file can hold: the values of one case (a digit of an
                  uncompressed number, a compressed code that stays in step),
                  one label, one code or missing value, one measure level, one
                  name, or one column's display format (a number format
                  turned into a date).  No reader can tell these from a file
                  that was written that way;

and anything else fails the test: a generic exception, a dead worker, or a
silent success that changed more than one such thing (wrong row count,
shifted columns, lost labels, ...), which is a fault a reader can detect.

The whole corpus (about 1,700 cases) runs in well under two minutes on two
cores; ``python -m tests.test_fuzz_loaders`` prints the counts per source.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKER_WAVE = ROOT / "data" / "tracker" / "wave2021.sav"
SEED = 20240611
#: (source, flips, cuts): single-byte changes and truncations per source file.
PLAN = [("tracker.sav", 320, 40), ("w.zsav", 220, 30), ("w.sav", 220, 30), ("w.por", 200, 30),
        ("w.dta", 200, 30), ("w.csv", 160, 30), ("w.csv.gz", 100, 30),
        ("w.codebook.json", 120, 20)]
#: Bytes of the dictionary of tracker.sav: a third of its flips land there.
TRACKER_DICTIONARY = 9632
WEIGHT = {"tracker.sav": "weight", "w.por": "WT"}
WORKERS = 2


# -- the files the corpus starts from ---------------------------------------------
def survey_frame(n: int = 200, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": np.arange(1.0, n + 1),
        "wt": rng.gamma(4.0, 0.25, n).round(3) + 0.01,
        "q1": rng.choice([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 8.0], n),
        "q2": rng.choice([1.0, 2.0, 3.0, 9.0], n),
        "age": rng.integers(18, 90, n).astype(float),
        "name": rng.choice(["Zoë", "Ann", "Jürgen", ""], n),
    })


VALUE_LABELS = {"q1": {0: "Not at all", 5: "Completely", 8: "Don't know"},
                "q2": {1: "Yes", 2: "No", 3: "Unsure", 9: "Refused"}}
VARIABLE_LABELS = {"q1": "Trust in the NHS (0-5)", "q2": "Heard of AI?", "age": "Age",
                   "wt": "Final weight", "name": "First name"}
MISSING = {"q1": [8], "q2": [9]}


def _b30(value: float) -> str:
    """A number in the portable format's base 30, with its closing ``/``."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRST"
    exact = Fraction(str(value))
    sign = "-" if exact < 0 else ""
    exact = abs(exact)
    whole, part = divmod(exact, 1)
    text = ""
    whole = int(whole)
    while True:
        text = digits[whole % 30] + text
        whole //= 30
        if not whole:
            break
    if part:
        text += "."
        for _ in range(20):
            part *= 30
            digit, part = divmod(part, 1)
            text += digits[int(digit)]
            if not part:
                break
    return f"{sign}{text}/"


def write_por(path: Path, frame: pd.DataFrame) -> None:
    """A small SPSS portable file (GNU PSPP's "Portable File Format"): labels,
    value labels and a user-missing code per item, UTF-8 text."""
    def text(value: str) -> str:
        raw = value.encode("utf-8").decode("latin-1")
        return _b30(len(raw)) + raw

    names = {c: c.upper() for c in frame.columns}
    table = "0" * 64 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    body = ["A", text("20240611"), text("120000"), "1", text("surveytools tests"),
            "4", _b30(len(names)), "5", _b30(11)]
    for column, name in names.items():
        width = 20 if frame[column].dtype == object or str(frame[column].dtype) == "str" else 0
        fmt = [1, 20, 0] if width else [5, 8, 2]
        body += ["7", _b30(width), text(name), *map(_b30, fmt), *map(_b30, fmt)]
        for code in MISSING.get(column, []):
            body += ["8", _b30(code)]
        if column in VARIABLE_LABELS:
            body += ["C", text(VARIABLE_LABELS[column])]
    for column, labels in VALUE_LABELS.items():
        body += ["D", _b30(1), text(names[column]), _b30(len(labels))]
        for code, label in labels.items():
            body += [_b30(code), text(label)]
    body.append("F")
    for row in frame.itertuples(index=False):
        for column, value in zip(frame.columns, row):
            body.append(text(value) if isinstance(value, str) else _b30(value))
    flat = "".join(body) + "Z"
    flat += "Z" * (-len(flat) % 80)
    header = ("ASCII SPSS PORT FILE" + " " * 20) * 5 + table.ljust(256, "0") + "SPSSPORT"
    whole = header + flat
    lines = [whole[i:i + 80] for i in range(0, len(whole), 80)]
    path.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n")


def write_sources(folder: Path) -> None:
    """Write every source file of the corpus into ``folder``."""
    import pyreadstat

    import surveytools as st

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TRACKER_WAVE, folder / "tracker.sav")
    frame = survey_frame()
    spss = dict(column_labels=VARIABLE_LABELS, variable_value_labels=VALUE_LABELS,
                missing_ranges=MISSING,
                variable_measure={"q1": "ordinal", "q2": "nominal", "age": "scale"})
    pyreadstat.write_sav(frame, folder / "w.zsav", compress=True, **spss)
    long_frame = frame.assign(comment=["x" * 600 if i % 7 else "" for i in range(len(frame))])
    pyreadstat.write_sav(long_frame, folder / "w.sav", **spss)
    write_por(folder / "w.por", frame)
    pyreadstat.write_dta(frame, folder / "w.dta",
                         column_labels=[VARIABLE_LABELS.get(c, "") for c in frame.columns],
                         variable_value_labels=VALUE_LABELS)
    frame.to_csv(folder / "w.csv", index=False)
    (folder / "w.csv.gz").write_bytes(gzip.compress((folder / "w.csv").read_bytes(), mtime=0))
    meta = st.Metadata(variable_labels=VARIABLE_LABELS, value_labels=VALUE_LABELS,
                       missing={c: st.MissingSpec(values=tuple(v)) for c, v in MISSING.items()},
                       measure={"q1": "ordinal", "q2": "nominal", "age": "scale"})
    st.write_codebook(meta, folder / "w.codebook.json", data=frame)


# -- the corpus -------------------------------------------------------------------
def _csv_faults() -> list[tuple[str, str, bytes]]:
    """The issue's CSV faults: (id, file, content)."""
    frame = survey_frame()
    text = frame.to_csv(index=False)
    lines = text.splitlines(keepends=True)
    short = lines[:5] + [",".join(lines[5].split(",")[:-2]) + "\n"] + lines[6:]
    quote = lines[:8] + ['9,1.0,1.0,1.0,40.0,"Ann\n'] + lines[9:]
    cut = text[: len(text) // 2]

    def with_field(line: int, field: int, value: str) -> bytes:
        row = lines[line].rstrip("\n").split(",")
        row[field] = value
        return "".join(lines[:line] + [",".join(row) + "\n"] + lines[line + 1:]).encode()

    cases = [
        ("row with too few fields", "w.csv", "".join(short).encode()),
        ("row with too many fields", "w.csv", "".join(lines[:3] + [lines[3].rstrip("\n")
                                                                   + ",7\n"] + lines[4:]).encode()),
        ("cut mid-file at a line break", "w.csv", "".join(lines[: len(lines) // 2]).encode()),
        ("cut mid-row", "w.csv", cut.encode()),
        ("unterminated quote", "w.csv", "".join(quote).encode()),
        ("inf in a numeric column", "w.csv", with_field(3, 2, "inf")),
        ("1e400 in a numeric column", "w.csv", with_field(4, 4, "1e400")),
        ("nan in a numeric column", "w.csv", with_field(6, 2, "nan")),
        ("NUL byte in a text field", "w.csv", with_field(7, 5, "Ann\x00")),
        ("truncated csv.gz", "w.csv.gz", gzip.compress(text.encode(), mtime=0)[:-9]),
        ("csv.gz with a damaged CRC", "w.csv.gz",
         (lambda z: z[:-8] + bytes([z[-8] ^ 1]) + z[-7:])(gzip.compress(text.encode(), mtime=0))),
    ]
    for label, weight in (("-0", "-0.0"), ("subnormal", "5e-324"), ("huge", "1e300"),
                          ("inf", "inf")):
        cases.append((f"weight {label}", "w.csv", with_field(10, 1, weight)))
    return cases


def _codebook_faults(folder: Path) -> list[tuple[str, str, bytes]]:
    book = json.loads((folder / "w.codebook.json").read_text())
    cases = []
    two = json.loads(json.dumps(book))
    two["variables"]["q2"]["value_labels"]["01"] = "Yes, a second label for code 1"
    cases.append(("two labels for one code (1 and 01)", "w.codebook.json", json.dumps(two)))
    raw = json.dumps(book).replace('"1": "Yes"', '"1": "Yes", "1": "No"', 1)
    cases.append(("one code twice in a JSON object", "w.codebook.json", raw))
    nan = json.loads(json.dumps(book))
    nan["variables"]["q1"]["missing"]["values"] = [float("nan")]
    cases.append(("NaN as a missing value", "w.codebook.json", json.dumps(nan)))
    rows = json.loads(json.dumps(book))
    rows["rows"] = book["rows"] + 1
    cases.append(("a row count the CSV does not have", "w.codebook.json", json.dumps(rows)))
    return [(i, f, c.encode()) for i, f, c in cases]


def _weight_faults_sav(folder: Path) -> list[tuple[str, str, bytes]]:
    """w.sav with the weight of case 11 changed (uncompressed, so that -0 stays -0:
    compression would store it as the code for 0)."""
    from surveytools.loading.savcheck import check_sav

    raw = (folder / "w.sav").read_bytes()
    layout = check_sav(folder / "w.sav")
    case_bytes = 8 * layout.case_size
    at = len(raw) - layout.rows * case_bytes + 10 * case_bytes + 8   # id, then wt
    return [(f"weight {label}", "w.sav", raw[:at] + struct.pack("<d", value) + raw[at + 8:])
            for label, value in (("-0", -0.0), ("subnormal", 5e-324), ("huge", 1e300),
                                 ("inf", math.inf))]


def _structure_faults(folder: Path) -> list[tuple[str, str, bytes]]:
    """Targeted damage to the counts and offsets an SPSS reader must not trust."""
    def put(raw: bytes, at: int, fmt: str, value) -> bytes:
        return raw[:at] + struct.pack("<" + fmt, value) + raw[at + struct.calcsize(fmt):]

    cases = []
    for source in ("tracker.sav", "w.sav", "w.zsav"):
        raw = (folder / source).read_bytes()
        cases += [
            ("header case count one lower", source, put(raw, 80, "i", struct.unpack_from(
                "<i", raw, 80)[0] - 1)),
            ("header case count one higher", source, put(raw, 80, "i", struct.unpack_from(
                "<i", raw, 80)[0] + 1)),
            ("header case size one higher", source, put(raw, 68, "i", struct.unpack_from(
                "<i", raw, 68)[0] + 1)),
            ("compression code changed", source, put(raw, 72, "i", 1 - raw[72] % 2)),
            ("layout code damaged", source, put(raw, 64, "i", 7)),
            ("eight more bytes of data", source, raw + b"\x01" * 8),
        ]
        if raw[72]:     # the bias only matters to compressed data
            cases.append(("compression bias changed", source, put(raw, 84, "d", 101.0)))
        end = raw.index(struct.pack("<ii", 999, 0), 176)
        cases.append(("dictionary termination damaged", source, put(raw, end + 4, "i", 1)))
        if source == "w.zsav":
            start = end + 8
            zheader, ztrailer, zlength = struct.unpack_from("<3q", raw, start)
            for name, at, fmt, value in (
                    ("ZLIB header offset", start, "q", zheader + 8),
                    ("ZLIB trailer offset", start + 8, "q", ztrailer - 24),
                    ("ZLIB trailer length", start + 16, "q", zlength + 24),
                    ("ZLIB trailer bias", ztrailer, "q", -101),
                    ("ZLIB block count", ztrailer + 20, "i", 2),
                    ("ZLIB block size in the table", ztrailer + 24 + 16, "i", 16),
                    ("ZLIB compressed block size", ztrailer + 24 + 20, "i",
                     struct.unpack_from("<i", raw, ztrailer + 44)[0] - 1)):
                cases.append((f"{name} damaged", source, put(raw, at, fmt, value)))
            body = start + 24 + 100
            cases.append(("a ZLIB block's bytes damaged", source,
                          raw[:body] + bytes([raw[body] ^ 0x10]) + raw[body + 1:]))
    return cases


def corpus(folder: Path) -> list[dict]:
    """Every case, seeded: flips and cuts of each source, then the named faults."""
    rng = random.Random(SEED)
    cases = []
    for source, flips, cuts in PLAN:
        size = (folder / source).stat().st_size
        for number in range(flips):
            if source == "tracker.sav" and number % 3 == 0:
                offset = rng.randrange(TRACKER_DICTIONARY)
            else:
                offset = rng.randrange(size)
            cases.append({"id": f"{source} flip {number} @{offset}", "source": source,
                          "kind": "flip", "offset": offset, "xor": rng.randrange(1, 256)})
        offsets = sorted({0, 1, 8, 100, 175, 176, 177, 464, size // 2, size - 1,
                          *(rng.randrange(size) for _ in range(cuts - 10))})
        for offset in offsets:
            cases.append({"id": f"{source} cut at {offset} of {size}", "source": source,
                          "kind": "cut", "offset": offset})
    # the two flips the issue reports as process deaths
    for offset, value in ((1934, 0xAF), (606, 0x14)):
        cases.append({"id": f"tracker.sav byte {offset} = {value:#x} (issue)",
                      "source": "tracker.sav", "kind": "set", "offset": offset, "value": value,
                      "expect": "named"})
    for label, source, content in _structure_faults(folder):
        cases.append({"id": f"{source}: {label}", "source": source, "kind": "bytes",
                      "content": base64.b64encode(content).decode(), "expect": "named"})
    for label, name, content in (_csv_faults() + _codebook_faults(folder)
                                 + _weight_faults_sav(folder)):
        cases.append({"id": f"{name}: {label}", "source": name, "kind": "bytes",
                      "content": base64.b64encode(content).decode(), "expect": "named"})
    return cases


# -- the worker (a separate process) ------------------------------------------
def _meta_items(meta) -> set:
    items = {("label", k, v) for k, v in meta.variable_labels.items()}
    items |= {("measure", k, v) for k, v in meta.measure.items()}
    items |= {("value", k, c, v) for k, d in meta.value_labels.items() for c, v in d.items()}
    items |= {("missing", k, s.values, s.ranges) for k, s in meta.missing.items()}
    items |= {("encoding", meta.encoding), ("notes", json.dumps(dict(meta.notes), default=str))}
    return items


def _difference(base, got) -> dict:
    """What differs between two Surveys read from a file and from its damaged copy."""
    if got.data.shape != base.data.shape:
        return {"shape": list(got.data.shape)}
    renamed = {b: a for a, b in zip(base.data.columns, got.data.columns) if a != b}
    frame = got.data.rename(columns=renamed)
    meta = got.meta.rename(renamed) if renamed else got.meta
    dtypes = [c for c in base.data.columns if base.data[c].dtype != frame[c].dtype]
    rows: set[int] = set()
    for column in base.data.columns:
        if column in dtypes:
            continue
        a, b = base.data[column], frame[column]
        same = (a == b).to_numpy(dtype=bool, na_value=False) | (a.isna() & b.isna()).to_numpy()
        rows.update(int(i) for i in np.flatnonzero(~same))
    meta_changes = len(_meta_items(base.meta) ^ _meta_items(meta))
    return {"renamed": len(renamed), "dtypes": len(dtypes), "rows": sorted(rows)[:50],
            "changed_rows": len(rows), "meta": meta_changes}


def _mutated(case: dict, folder: Path) -> bytes:
    if case["kind"] == "bytes":
        return base64.b64decode(case["content"])
    data = bytearray((folder / case["source"]).read_bytes())
    if case["kind"] == "cut":
        return bytes(data[:case["offset"]])
    if case["kind"] == "flip":
        data[case["offset"]] ^= case["xor"]
    else:
        data[case["offset"]] = case["value"]
    return bytes(data)


def _target(source: str) -> str:
    """The data file read for a case of ``source`` (a codebook case reads the CSV)."""
    return "w.csv" if source == "w.codebook.json" else source


def worker(job: str, results: str) -> None:
    """Read every case of the job file, appending one JSON line per case to
    ``results`` (a ``start`` line first, so that a crash names its case)."""
    import surveytools as st
    from surveytools.core.errors import SurveyError

    spec = json.loads(Path(job).read_text())
    folder = Path(spec["folder"])
    bases = {}
    for source in {_target(c["source"]) for c in spec["cases"]}:
        design = st.Design(weight=WEIGHT.get(source, "wt"))
        bases[source] = st.read_wave(folder / source, design=design, cache=False)
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-"))
    with open(results, "a", encoding="utf-8") as out:
        for case in spec["cases"]:
            out.write(json.dumps({"start": case["id"]}) + "\n")
            out.flush()
            for name in ("w.csv", "w.csv.gz", "w.codebook.json"):
                shutil.copyfile(folder / name, scratch / name)
            (scratch / case["source"]).write_bytes(_mutated(case, folder))
            target = _target(case["source"])
            design = st.Design(weight=WEIGHT.get(target, "wt"))
            path = scratch / target
            try:
                wave = st.read_wave(path, design=design, cache=False)
            except SurveyError as error:
                outcome = {"outcome": "named", "type": type(error).__name__,
                           "message": str(error), "folder": str(scratch)}
            except BaseException as error:  # noqa: BLE001 - a generic exception is the fault
                outcome = {"outcome": "generic", "type": type(error).__name__,
                           "message": str(error)[:300]}
            else:
                outcome = {"outcome": "read", "difference": _difference(bases[target], wave)}
            out.write(json.dumps({"done": case["id"], **outcome}) + "\n")
            out.flush()
    shutil.rmtree(scratch, ignore_errors=True)


# -- running the corpus -------------------------------------------------------------
def run_corpus(folder: Path, cases: list[dict], *, timeout: float = 600) -> dict[str, dict]:
    """Run ``cases`` in worker processes; a worker that dies marks its case ``death``
    and a new worker goes on from the next case."""
    outcomes: dict[str, dict] = {}
    chunks = [cases[i::WORKERS] for i in range(WORKERS)]
    here = Path(__file__).resolve().parent
    script = (f"import sys; sys.path.insert(0, {str(here)!r}); "
              "import test_fuzz_loaders as t; t.worker(sys.argv[1], sys.argv[2])")
    with tempfile.TemporaryDirectory(prefix="fuzz-run-") as tmp:
        pending = {n: chunk for n, chunk in enumerate(chunks) if chunk}
        running = {}
        while pending or running:
            for number in list(pending):
                if number in running:
                    continue
                job, results = Path(tmp) / f"job{number}.json", Path(tmp) / f"out{number}.jsonl"
                job.write_text(json.dumps({"folder": str(folder), "cases": pending[number]}))
                results.write_text("")
                env = {**os.environ, "SURVEYTOOLS_CACHE_DIR": str(Path(tmp) / "cache")}
                running[number] = (subprocess.Popen(
                    [sys.executable, "-c", script, str(job), str(results)], env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), results)
            for number, (process, results) in list(running.items()):
                try:
                    process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                del running[number]
                started = None
                for line in results.read_text().splitlines():
                    record = json.loads(line)
                    if "start" in record:
                        started = record["start"]
                    else:
                        outcomes[record.pop("done")] = record
                        started = None
                chunk = pending.pop(number)
                if started is not None:   # the worker died inside a case
                    outcomes[started] = {"outcome": "death", "returncode": process.returncode,
                                         "stderr": process.stderr.read().decode()[-500:]}
                else:
                    process.stderr.read()
                left = [c for c in chunk if c["id"] not in outcomes]
                if left and started is None and process.returncode != 0:
                    raise RuntimeError(f"a fuzz worker failed outside a case: "
                                       f"{process.returncode}")
                if left:
                    pending[number] = left
    return outcomes


def classify(case: dict, outcome: dict) -> str:
    """named / no effect / undetectable, or the reason the case fails."""
    kind = outcome["outcome"]
    if kind == "named":
        message = outcome["message"]
        if "Fix: " not in message or not message.startswith(outcome["folder"]):
            return f"FAIL: a named error without its file or fix: {message[:200]}"
        return "named"
    if kind != "read":
        return f"FAIL: {kind} {outcome.get('type', '')} {outcome.get('message', '')}" \
               f"{outcome.get('stderr', '')}"[:400]
    diff = outcome["difference"]
    if "shape" in diff:
        return f"FAIL: silent success with another shape {diff['shape']}"
    parts = [k for k in ("renamed", "dtypes", "changed_rows", "meta") if diff[k]]
    if not parts:
        return "no effect"
    rows = diff["rows"]
    one_case = (parts == ["changed_rows"] and rows[-1] - rows[0] <= 1)
    one_item = parts == ["meta"] and diff["meta"] <= 2
    one_name = parts == ["renamed"] and diff["renamed"] == 1
    one_format = parts == ["dtypes"] and diff["dtypes"] == 1
    if one_case or one_item or one_name or one_format:
        return "undetectable"
    return f"FAIL: silent success that changed {diff}"


# -- the tests ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-sources")
    write_sources(folder)
    cases = corpus(folder)
    outcomes = run_corpus(folder, cases)
    return {c["id"]: (c, outcomes.get(c["id"], {"outcome": "missing"})) for c in cases}


def _case_ids() -> list[str]:
    """The corpus ids, computed without writing the sources twice."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-ids-"))
    try:
        write_sources(folder)
        return [c["id"] for c in corpus(folder)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CASE_IDS = _case_ids()


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_a_damaged_file_is_a_named_error_or_an_undetectable_change(fuzz, case_id):
    case, outcome = fuzz[case_id]
    verdict = classify(case, outcome)
    assert not verdict.startswith("FAIL"), f"{case_id}: {verdict}"
    if case.get("expect") == "named":
        assert verdict == "named", f"{case_id}: expected a named error, got {verdict}"


def test_the_corpus_counts(fuzz):
    """Per source: how many cases of each outcome (shown with -s); none fail."""
    counts: dict[str, Counter] = {}
    for case, outcome in fuzz.values():
        counts.setdefault(case["source"], Counter())[classify(case, outcome).split(":")[0]] += 1
    for source, counter in counts.items():
        print(f"{source:18} {dict(sorted(counter.items()))}")
    assert not any(c["FAIL"] for c in counts.values())
    total = sum(counts.values(), Counter())
    assert total["named"] > 0.4 * sum(total.values())


def test_the_issue_offsets_no_longer_kill_the_reader(fuzz):
    """wave2021.sav with byte 1934 = 0xAF or 606 = 0x14 segfaulted ReadStat."""
    for case_id, (case, outcome) in fuzz.items():
        if "(issue)" in case_id:
            assert outcome["outcome"] == "named", outcome
            assert outcome["type"] == "FileFormatError"
            assert "impossible width" in outcome["message"]
            assert "column '" in outcome["message"] and "at byte" in outcome["message"]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as here:
        write_sources(Path(here))
        cases = corpus(Path(here))
        results = run_corpus(Path(here), cases)
        table: dict[str, Counter] = {}
        for case in cases:
            verdict = classify(case, results.get(case["id"], {"outcome": "missing"}))
            table.setdefault(case["source"], Counter())[verdict.split(":")[0]] += 1
            if verdict.startswith("FAIL"):
                print(case["id"], verdict)
        for source, counter in table.items():
            print(f"{source:18} {sum(counter.values()):5} {dict(sorted(counter.items()))}")
        print("total", sum(sum(c.values()) for c in table.values()),
              dict(sum(table.values(), Counter())))


# -- what the structure check cannot prove is read in a child process -------------
def _with_extension(raw: bytes, subtype: int, body: bytes) -> bytes:
    """``raw`` (an SPSS file) with one more extension record before the dictionary ends."""
    end = raw.index(struct.pack("<ii", 999, 0), 176)
    record = struct.pack("<4i", 7, subtype, 1, len(body)) + body
    return raw[:end] + record + raw[end:]


@pytest.mark.parametrize("line, isolated", [
    (b"$trust=C 11 Trust items Q1 Q2\n", False),           # the form ReadStat reads safely
    (b"$trust=D1 8 11 Trust items Q1 Q2\n", False),
    (b"$trust=C 99 Trust items Q1 Q2\n", True),            # a label length past the line
    (b"$trust=D9 8 11 Trust items Q1 Q2\n", True),         # a counted value past the line
    (b"$trust=E 1 2 8 11 Trust items Q1 Q2\n", True),      # a form ReadStat does not know
])
def test_multiple_response_sets_readstat_could_misread_are_read_in_a_child(
        tmp_path, monkeypatch, line, isolated):
    import pyreadstat

    import surveytools as st
    from surveytools.loading import read as reading
    from surveytools.loading.savcheck import check_sav

    write_sources(tmp_path)
    path = tmp_path / "mr.sav"
    path.write_bytes(_with_extension((tmp_path / "w.sav").read_bytes(), 7, line))
    assert check_sav(path).isolate is isolated
    in_process = []
    real = pyreadstat.read_sav
    monkeypatch.setattr(pyreadstat, "read_sav",
                        lambda *a, **k: in_process.append(a) or real(*a, **k))
    children = []
    real_child = reading._read_in_child
    monkeypatch.setattr(reading, "_read_in_child",
                        lambda *a, **k: children.append(a) or real_child(*a, **k))
    try:
        wave = st.read_wave(path, design=st.Design(weight="wt"), cache=False)
    except st.FileFormatError as error:      # a named error is a fine outcome too
        assert str(path) in str(error) and "Fix: " in str(error)
    else:
        assert len(wave.data) == 200
    assert bool(children) is isolated and bool(in_process) is not isolated
