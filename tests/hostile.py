"""A reusable corpus of bad and hostile inputs for Hourbank's readers, and a runner for it.

``cases()`` returns ``Case(name, payload, expectation, entry)`` tuples:

- ``payload``: ``{file name: bytes}``: the files of an export folder (entry ``folder``:
  billing.load.import_export), of an upload (``upload``: billing.importing.stage_uploads then
  run_import; a ``.zip`` name is a zip upload), or one tracker export (``tracker``:
  billing.trackers.import_tracker_file);
- ``expectation``: ``"error"`` (an HourbankError of one line naming the file, database
  unchanged), ``"rejects"`` (completes, with at least one reject), ``"error_or_rejects"``
  ``"loads"`` (completes with no reject) or ``"empty"`` (a tracker file with no rows:
  nothing to load, nothing changed).

``run_case(case, db, workdir)`` feeds one case to its entry point and returns an Outcome;
``db_fingerprint(db)`` is every table's row count and content checksum, to show that a
refused input left the database exactly as it was. A report script can loop over
``cases()`` with these two and print what each did.
"""
from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb

ENTRY_HEADER = ("entry_id,customer_id,customer_name,staff,started_at,minutes,tier,activity,appointment_id,"
                "customer_requested,notes")
GOOD_ENTRY = "h{n},acme,Acme Ltd,Ann,2026-03-02T09:00,10,one_on_one,setup,,,a note"
TOGGL_HEADER = ("User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,"
                "Duration,Tags")
TOGGL_ROW = "Ann,ann@example.com,Acme,1:1 support,,Helped with setup,Yes,2026-03-02,09:00:00,2026-03-02,10:00:00,01:00:00,"
INJECTION = "x'); DROP TABLE time_entries; --"

# Zip member names that try to leave the staging folder.
TRAVERSAL_NAMES = ["../x.csv", "../time_entries.csv", "/etc/passwd", "/tmp/time_entries.csv",
                   "a\\..\\b.csv", "..\\..\\time_entries.csv", "C:\\Windows\\time_entries.csv",
                   "export/../../time_entries.csv"]


class Case(NamedTuple):
    name: str
    payload: dict[str, bytes]
    expectation: str       # "error" | "rejects" | "error_or_rejects" | "loads" | "empty"
    entry: str = "folder"  # "folder" | "upload" | "tracker"


@dataclass
class Outcome:
    case: str
    kind: str              # "error" | "completed" | "empty" (nothing to load) | "crash"
    message: str = ""
    read: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    unchanged_db: bool = True

    def ok_for(self, expectation: str) -> bool:
        if self.kind == "crash":
            return False
        if expectation == "error":
            return self.kind == "error" and self.unchanged_db
        if expectation == "rejects":
            return self.kind == "completed" and self.rejected > 0
        if expectation == "empty":
            return self.kind == "empty" and self.unchanged_db
        if expectation == "loads":
            return self.kind == "completed" and self.rejected == 0
        return (self.kind == "error" and self.unchanged_db) or (self.kind == "completed" and self.rejected > 0)


def entries_csv(*rows: str, header: str = ENTRY_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def good_entries(n: int = 5) -> bytes:
    return entries_csv(*(GOOD_ENTRY.format(n=i) for i in range(n)))


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 2, 9, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    return buf.getvalue()


def _patch_headers(data: bytes, local_offset: int, central_offset: int, value: bytes) -> bytes:
    """Overwrite one field in every local and central directory header of a zip."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = out.find(signature)
        while at != -1:
            out[at + offset:at + offset + len(value)] = value
            at = out.find(signature, at + 4)
    return bytes(out)


def lying_zip(actual: bytes, declared: int, name: str = "time_entries.csv") -> bytes:
    """A zip bomb: the directory says the member unpacks to ``declared`` bytes; it really
    unpacks to ``len(actual)``."""
    return _patch_headers(make_zip({name: actual}), 22, 24, struct.pack("<I", declared))


def unknown_method_zip(name: str = "time_entries.csv") -> bytes:
    """A member compressed with a method no reader knows (99)."""
    return _patch_headers(make_zip({name: good_entries()}), 8, 10, struct.pack("<H", 99))


def cases() -> list[Case]:
    """Every named hostile input (the fuzz tests add random ones)."""
    good = good_entries()
    many_columns = ",".join(f"col{i}" for i in range(5000)).encode() + b"\n" + b",".join([b"v"] * 5000) + b"\n"
    c = [
        # --- the canonical export's reader (import_export on a folder)
        Case("empty file", {"time_entries.csv": b""}, "error"),
        Case("only a BOM", {"time_entries.csv": b"\xef\xbb\xbf"}, "error"),
        Case("random binary", {"time_entries.csv": bytes(range(256)) * 8}, "error"),
        Case("a PNG renamed .csv", {"time_entries.csv": b"\x89PNG\r\n\x1a\n" + bytes(200)}, "error"),
        Case("latin-1 text", {"time_entries.csv": (ENTRY_HEADER + "\nh1,acme,Café Müller,Ann,2026-03-02T09:00,10,"
                                                   "one_on_one,,,,\n").encode("latin-1")}, "error"),
        Case("cp1252 text", {"time_entries.csv": (ENTRY_HEADER + "\nh1,acme,“Quoted” – Ltd,Ann,2026-03-02T09:00,10,"
                                                  "one_on_one,,,,\n").encode("cp1252")}, "error"),
        Case("utf-16 with BOM", {"time_entries.csv": (ENTRY_HEADER + "\n" + GOOD_ENTRY.format(n=1) + "\n")
             .encode("utf-16")}, "error"),
        Case("utf-16-le without BOM", {"time_entries.csv": (ENTRY_HEADER + "\n").encode("utf-16-le")}, "error"),
        Case("truncated mid-header", {"time_entries.csv": good[:30]}, "error"),
        Case("truncated mid-record", {"time_entries.csv": good[:len(good) - 17]}, "error_or_rejects"),
        Case("truncated mid-UTF-8 character",
             {"time_entries.csv": entries_csv("h1,acme,Łódź,Ann,2026-03-02T09:00,10,one_on_one,,,,")[:-13]},
             "error_or_rejects"),
        Case("NUL bytes in the header", {"time_entries.csv": good.replace(b"staff", b"st\x00aff", 1)}, "error"),
        Case("NUL bytes in a value", {"time_entries.csv": entries_csv(
            "h1,acme,Ac\x00me,Ann,2026-03-02T09:00,10,one_on_one,,,,")}, "loads"),
        Case("10k-character fields", {"time_entries.csv": entries_csv(
            "h1,acme," + "N" * 10_000 + ",Ann,2026-03-02T09:00,10,one_on_one," + "a" * 10_000 + ",,,"
            + "n" * 10_000)}, "loads"),
        Case("a 10k-character timestamp", {"time_entries.csv": entries_csv(
            "h1,acme,Acme,Ann,2026-03-02T09:00" + "0" * 10_000 + ",10,one_on_one,,,,")}, "rejects"),
        Case("a 10k-digit number", {"time_entries.csv": entries_csv(
            "h1,acme,Acme,Ann,2026-03-02T09:00,1" + "0" * 10_000 + ",one_on_one,,,,",
            "h2,acme,Acme,Ann,2026-03-02T09:00,0." + "0" * 10_000 + "1,one_on_one,,,,")}, "rejects"),
        Case("5,000 header columns", {"time_entries.csv": many_columns}, "error"),
        Case("a header naming a column twice", {"time_entries.csv": entries_csv(header=ENTRY_HEADER + ",notes")},
             "error"),
        Case("a header with an empty name", {"time_entries.csv": entries_csv(header=ENTRY_HEADER + ",")}, "error"),
        Case("required column missing", {"time_entries.csv": b"entry_id,customer_id\nh1,acme\n"}, "error"),
        Case("unterminated quote", {"time_entries.csv": entries_csv(
            GOOD_ENTRY.format(n=1), 'h2,"acme,Acme,Ann,2026-03-02T09:00,10,one_on_one,,,,')}, "error_or_rejects"),
        Case("quote inside an unquoted value", {"time_entries.csv": entries_csv(
            'h1,ac"me,Acme,Ann,2026-03-02T09:00,10,one_on_one,,,,')}, "loads"),  # kept as written: ac"me
        Case("text after a closing quote", {"time_entries.csv": entries_csv(
            GOOD_ENTRY.format(n=1), 'h2,"acme"x,Acme,Ann,2026-03-02T09:00,10,one_on_one,,,,')}, "error_or_rejects"),
        Case("a bare carriage return in a value", {"time_entries.csv": entries_csv(
            GOOD_ENTRY.format(n=1), "h2,ac\rme,Acme,Ann,2026-03-02T09:00,10,one_on_one,,,,")}, "error"),
        Case("CR CR LF line ending", {"time_entries.csv": entries_csv(GOOD_ENTRY.format(n=1) + "\r\r")}, "error"),
        Case("mixed CR LF and LF line endings", {"time_entries.csv": good.replace(b"\n", b"\r\n", 1)}, "error"),
        Case("a quoted header", {"time_entries.csv": b'"entry_id","customer_id","staff","started_at","minutes",'
                                 b'"tier"\n"h1","acme","Ann","2026-03-02T09:00","10","one_on_one"\n'}, "loads"),
        Case("a header with an unterminated quote", {"time_entries.csv": b'"entry_id,customer_id\nh1,acme\n'},
             "error"),
        Case("too few and too many fields", {"time_entries.csv": entries_csv(
            "h1,acme", GOOD_ENTRY.format(n=2) + ",extra,extra")}, "rejects"),
        Case("only blank lines", {"time_entries.csv": b"\n\n\r\n  \n"}, "error"),
        Case("a directory named like the file", {}, "error"),  # built by run_case (see below)
        Case("SQL in every value", {"time_entries.csv": entries_csv(
            f'"{INJECTION}","{INJECTION}","{INJECTION}","{INJECTION}",2026-03-02T09:00,10,one_on_one,'
            f'"{INJECTION}",,,"{INJECTION}"')}, "loads"),
        Case("SQL in a header name", {"time_entries.csv": entries_csv(
            GOOD_ENTRY.format(n=1) + ",1", header=ENTRY_HEADER + f',"{INJECTION}"')}, "loads"),
        Case("SQL in a bad value", {"time_entries.csv": entries_csv(
            f'h1,acme,Acme,Ann,"{INJECTION}",10,one_on_one,,,,')}, "rejects"),
        # --- uploads (stage_uploads + run_import)
        Case("upload: random bytes as a tracker file", {"export.csv": bytes(range(256)) * 4}, "error", "upload"),
        Case("upload: not a csv or zip", {"export.xlsx": b"PK\x03\x04"}, "error", "upload"),
        Case("upload: a hidden file name", {".time_entries.csv": good}, "error", "upload"),
        Case("upload: a path as the file name", {"../time_entries.csv": good}, "error", "upload"),
        Case("upload: a zip that is not one", {"export.zip": b"PK\x03\x04" + bytes(100)}, "error", "upload"),
        Case("upload: a truncated zip", {"export.zip": make_zip({"time_entries.csv": good})[:-40]}, "error", "upload"),
        Case("upload: an empty zip", {"export.zip": make_zip({})}, "error", "upload"),
        Case("upload: a zip member with an unknown compression", {"export.zip": unknown_method_zip()}, "error",
             "upload"),
        Case("upload: a zip inside the zip", {"export.zip": make_zip({"inner.zip": make_zip({"time_entries.csv": good})})},
             "error", "upload"),
        Case("upload: a zip with a file twice", {"export.zip": make_zip({"time_entries.csv": good,
                                                                          "a/time_entries.csv": good})},
             "error", "upload"),
        Case("upload: 21 files in a zip", {"export.zip": make_zip({f"f{i}.csv": b"a\n1\n" for i in range(21)})},
             "error", "upload"),
        Case("upload: a zip whose member lies about its size",
             {"export.zip": lying_zip(good * 200, declared=len(good))}, "error", "upload"),
        Case("upload: a zip declaring 4 GB", {"export.zip": lying_zip(good, declared=0xFFFFFFFF)}, "error", "upload"),
        Case("upload: the canonical files in a folder of a zip", {"export.zip": make_zip(
            {"export/time_entries.csv": good})}, "loads", "upload"),
        Case("upload: SQL in a file name", {f"{INJECTION}.csv": good}, "error", "upload"),
        # --- tracker exports (import_tracker_file)
        Case("tracker: random bytes", {"toggl.csv": bytes(range(1, 256)) * 4}, "error", "tracker"),
        Case("tracker: utf-16", {"toggl.csv": (TOGGL_HEADER + "\n" + TOGGL_ROW + "\n").encode("utf-16")},
             "error", "tracker"),
        Case("tracker: latin-1", {"toggl.csv": (TOGGL_HEADER + "\n" + TOGGL_ROW.replace("Acme", "Café") + "\n")
             .encode("latin-1")}, "error", "tracker"),
        Case("tracker: header only", {"toggl.csv": (TOGGL_HEADER + "\n").encode()}, "empty", "tracker"),
        Case("upload: a tracker export with a header only", {"toggl.csv": (TOGGL_HEADER + "\n").encode()},
             "error", "upload"),
        Case("tracker: 5,000 header columns", {"toggl.csv": many_columns}, "error", "tracker"),
        Case("tracker: a 10k-character description", {"toggl.csv": (
            TOGGL_HEADER + "\n" + TOGGL_ROW.replace("Helped with setup", "d" * 10_000) + "\n").encode()},
            "loads", "tracker"),
        Case("tracker: unterminated quote", {"toggl.csv": (
            TOGGL_HEADER + "\n" + TOGGL_ROW + "\n" + TOGGL_ROW.replace("Helped", '"Helped') + "\n").encode()},
            "error_or_rejects", "tracker"),
        Case("tracker: NUL bytes", {"toggl.csv": (TOGGL_HEADER + "\n" + TOGGL_ROW.replace("Acme", "Ac\x00me")
                                                  + "\n").encode()}, "loads", "tracker"),
        Case("tracker: SQL as the client", {"toggl.csv": (
            TOGGL_HEADER + "\n" + TOGGL_ROW.replace("Acme", f'"{INJECTION}"') + "\n").encode()}, "loads", "tracker"),
    ]
    c += [Case(f"upload: a zip member named {name!r}", {"export.zip": make_zip({name: good})}, "error", "upload")
          for name in TRAVERSAL_NAMES]
    return c


# --------------------------------------------------------------------------- running a case
def db_fingerprint(db: Path) -> dict[str, tuple[int, int]]:
    """Every table's (row count, content checksum); equal before and after = same content."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        out = {}
        for table in tables:
            ident = '"' + table.replace('"', '""') + '"'
            out[table] = con.execute(
                f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {ident} t").fetchone()
        return out
    finally:
        con.close()


def run_case(case: Case, db: Path, workdir: Path, policy=None) -> Outcome:
    """Feed one case to its reader; an exception other than HourbankError is a crash."""
    from billing.errors import HourbankError
    from billing.importing import run_import, stage_uploads
    from billing.load import import_export
    from billing.policy import Policy
    from billing.trackers import import_tracker_file

    policy = policy or Policy()
    workdir.mkdir(parents=True, exist_ok=True)
    before = db_fingerprint(db)
    try:
        if case.entry == "folder":
            folder = workdir / "export"
            folder.mkdir(exist_ok=True)
            for name, data in case.payload.items():
                (folder / name).write_bytes(data)
            if not case.payload:  # a directory where the file should be
                (folder / "time_entries.csv").mkdir()
            result = import_export(db, folder, policy=policy)
        elif case.entry == "upload":
            staged = stage_uploads(list(case.payload.items()), workdir / "staged")
            result = run_import(db, staged, policy, dry_run=False)
        else:
            (name, data), = case.payload.items()
            path = workdir / name
            path.write_bytes(data)
            done = import_tracker_file(db, path, "auto", timezone="UTC", policy=policy)
            if done.result is None:
                return Outcome(case.name, "empty" if not done.rejects else "completed",
                               read=len(done.rejects), rejected=len(done.rejects),
                               unchanged_db=db_fingerprint(db) == before)
            result = done.result
    except HourbankError as exc:
        return Outcome(case.name, "error", str(exc), unchanged_db=db_fingerprint(db) == before)
    except Exception as exc:  # noqa: BLE001 - a crash is what this looks for
        return Outcome(case.name, "crash", f"{type(exc).__name__}: {exc}", unchanged_db=db_fingerprint(db) == before)
    return Outcome(case.name, "completed", read=result.total("read"), added=result.added,
                   replaced=result.replaced, unchanged=result.unchanged, rejected=result.rejected,
                   unchanged_db=db_fingerprint(db) == before)


def names_a_file(message: str, case: Case) -> bool:
    """The message names the file (or the zip member) it is about."""
    names = set(case.payload) | {"time_entries.csv"}
    return any(n in message or Path(n).name in message or n.replace("\\", "/").split("/")[-1] in message
               for n in names)
