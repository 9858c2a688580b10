"""What the Import page does, without Streamlit: stage uploads safely, preview, commit.

An upload is a set of files: the canonical export's CSV files, one zip of them, or a
tracker's CSV export (recognised from its header row, billing.trackers). Nothing is
loaded until the user has seen the preview (a dry run of the same import) and confirmed.

Uploads are untrusted: a zip is read member by member with limits on count and size (a
zip bomb stops early), only plain file names are used (no path in a name reaches the
disk), and anything else is refused with one sentence.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

from billing.errors import HourbankError
from billing.load import SPECS, ImportResult, import_export
from billing.policy import Policy

CANONICAL = {spec.filename for spec in SPECS.values()}
# A tracker's export: CSV, or a spreadsheet (billing.trackers.reader reads XLSX, XLS and ODS).
TRACKER_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024          # matches server.maxUploadSize
MAX_ZIP_MEMBERS = 20
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024       # all members of one zip, unpacked


class UploadError(HourbankError):
    pass


@dataclass
class Staged:
    folder: Path
    canonical: list[str]          # canonical file names staged
    tracker_file: Path | None     # a tracker export, when that is what was uploaded
    tracker_preset: str | None


def _plain_name(name: str, within: str | None = None) -> str:
    """The file name alone; a hidden/odd name, or a path that leaves its folder, is refused."""
    where = f"{within}: " if within else ""
    pure = PurePosixPath(name.replace("\\", "/"))
    base = pure.name
    if not base or base.startswith(".") or base in ("..",) or "\x00" in base:
        raise UploadError(f"{where}{name!r}: not a file name that can be imported.")
    if pure.is_absolute() or ".." in pure.parts or re.match(r"[A-Za-z]:", name):  # a path that leaves the folder
        raise UploadError(f"{where}{name!r}: a file name that points outside its folder is refused.")
    return base


def _copy_limited(src, dst, limit: int, name: str) -> int:
    total = 0
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            raise UploadError(f"{name}: unpacks to more than {limit // (1024 * 1024)} MB; refused "
                              f"(split the export or import the CSV files directly).")
        dst.write(chunk)


def stage_uploads(uploads: list[tuple[str, bytes]], folder: Path) -> Staged:
    """Write the uploaded files into ``folder`` and say what they are."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, data in uploads:
        base = _plain_name(name)
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadError(f"{base}: {len(data) // (1024 * 1024)} MB is over the "
                              f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB upload limit.")
        if base.lower().endswith(".zip"):
            files.update(_unzip(base, data, folder))
        elif base.lower().endswith(TRACKER_SUFFIXES):
            if base in files:
                raise UploadError(f"{base}: uploaded twice; upload each file once.")
            path = folder / base
            path.write_bytes(data)
            files[base] = path
        else:
            raise UploadError(f"{base}: only CSV files, one .zip of them, or a tracker's export (CSV, XLSX, XLS, "
                              f"ODS) can be imported.")
    if not files:
        raise UploadError("no file was uploaded.")
    canonical = sorted(n for n in files if n in CANONICAL)
    others = sorted(n for n in files if n not in CANONICAL)
    if canonical:
        if others:
            raise UploadError(f"{', '.join(others)}: not a file of the canonical export "
                              f"({', '.join(sorted(CANONICAL))}); upload tracker exports on their own.")
        return Staged(folder, canonical, None, None)
    if len(others) > 1:
        raise UploadError("upload one tracker export at a time (or the canonical export's files).")
    from billing.trackers import detect_preset

    tracker = files[others[0]]
    return Staged(folder, [], tracker, detect_preset(tracker))


def _unzip(name: str, data: bytes, folder: Path) -> dict[str, Path]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{name}: not a readable zip file.")
    members = [m for m in archive.infolist() if not m.is_dir()]
    if not members:
        raise UploadError(f"{name}: the zip has no files in it.")
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadError(f"{name}: {len(members)} files inside; at most {MAX_ZIP_MEMBERS} are accepted.")
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNPACKED_BYTES:
        raise UploadError(f"{name}: unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB; refused.")
    out: dict[str, Path] = {}
    budget = MAX_UNPACKED_BYTES
    for member in members:
        base = _plain_name(member.filename, name)  # "../../etc/passwd" becomes "passwd", then refused below
        if PurePosixPath(member.filename.replace("\\", "/")).name != base or not base.lower().endswith(".csv"):
            raise UploadError(f"{name}: {member.filename!r} is not a CSV file of the export.")
        if base in out:
            raise UploadError(f"{name}: {base} is in the zip twice.")
        target = folder / base
        try:
            with archive.open(member) as src, target.open("wb") as dst:
                budget -= _copy_limited(src, dst, budget, name)  # the real size, not the declared one
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
            raise UploadError(f"{name}: {member.filename} cannot be unpacked ({exc}).")
        out[base] = target
    return out


def run_import(db_path, staged: Staged, policy: Policy, *, dry_run: bool, period: tuple[date, date] | None = None,
               preset=None, timezone_name: str | None = None, date_order: str | None = None,
               label: str | None = None, scope: str | None = None, add_only: bool = False,
               expect_removals: str | None = None) -> ImportResult:
    """Preview (dry_run=True) or load what was staged; the same code path both ways.

    ``preset``: a tracker preset name or an edited mapping (tracker_mapping). ``period``: the
    canonical export's period, or for a tracker file a period that wins over its own first to
    last day. ``scope`` (default: auto for a tracker file, team for the canonical export) and
    ``add_only`` limit what can be removed (billing.load.decide_scope). ``expect_removals``:
    the preview's ``removal_key``, so the import removes exactly what the preview showed.
    A tracker file none of whose rows converts comes back with ``nothing_read`` and ``hints``
    (and is recorded with its rejects when not a dry run)."""
    if staged.tracker_file is not None:
        from billing.trackers import import_tracker_file

        done = import_tracker_file(db_path, staged.tracker_file, preset or staged.tracker_preset or "auto",
                                   timezone=timezone_name, dry_run=dry_run, policy=policy, date_order=date_order,
                                   period=period, scope=scope or "auto", add_only=add_only,
                                   expect_removals=expect_removals, cli=False)
        if done.result is None:
            raise UploadError(f"{staged.tracker_file.name}: the file has a header row but no entries.")
        return done.result
    return import_export(db_path, staged.folder, period=period, policy=policy, dry_run=dry_run,
                         label=label or "upload: " + ", ".join(staged.canonical), scope=scope or "team",
                         add_only=add_only, expect_removals=expect_removals)


def record_purchase(db_path, policy: Policy, folder: Path, customer_id: str, purchased_on: date, hours: str,
                    amount: str | None = None, purchase_id: str | None = None, dry_run: bool = False) -> ImportResult:
    """A purchase recorded by hand: an import of its own (so it shows in the history and can be undone).

    The row goes through the same validation as an exported one (FORMATS.md)."""
    import csv

    customer_id = (customer_id or "").strip()
    if not customer_id:
        raise UploadError("a purchase needs a customer.")
    pid = purchase_id or "manual-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "purchases.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["purchase_id", "customer_id", "purchased_at", "hours", "amount"])
        writer.writerow([pid, customer_id, purchased_on.isoformat(), str(hours).strip(), (amount or "").strip()])
    label = f"purchase recorded by hand: {pid}"
    check = import_export(db_path, folder, policy=policy, dry_run=True, label=label)
    if check.rejects:  # refused before anything is written
        raise UploadError("the purchase was not recorded: " + check.rejects[0].reason + ".")
    if dry_run:
        return check
    return import_export(db_path, folder, policy=policy, label=label)


# --------------------------------------------------------------------------- tracker mappings
MEANING_LISTS = {
    "one_on_one_projects": "Projects that are 1-on-1 work (billable, R2)",
    "general_projects": "Projects that are General Support (free, R2)",
    "one_on_one_tags": "Tags that mean 1-on-1 work",
    "general_tags": "Tags that mean General Support",
    "session_projects": "Projects that mean work inside a pre-scheduled session (R4)",
    "session_tags": "Tags that mean work inside a pre-scheduled session (R4)",
}


def tracker_mapping(preset: str | None, meaning: dict[str, list[str]] | None = None,
                    customers: dict[str, str] | None = None, billable_yes: str | None = None,
                    billable_no: str | None = None):
    """A preset's mapping with the Import page's edits applied (the preset file is untouched)."""
    from billing.trackers import load_mapping

    mapping = load_mapping(preset).copy()
    for key, values in (meaning or {}).items():
        if key not in MEANING_LISTS:
            raise UploadError(f"{key}: not a meaning the Import page can set.")
        mapping.meaning[key] = [v.strip() for v in values if v and v.strip()]
    if billable_yes:
        mapping.meaning["billable_yes"] = billable_yes
    if billable_no:
        mapping.meaning["billable_no"] = billable_no
    mapping.customers.update({k: v.strip() for k, v in (customers or {}).items() if v and v.strip()})
    return mapping


def tracker_preview(staged: Staged, mapping, timezone_name: str | None, date_order: str | None):
    """Convert the tracker file as it would be imported: its mapped rows, rejects and the
    clients that no customer-map entry names (they become customers under their own name)."""
    from billing.trackers import convert

    return convert(staged.tracker_file, mapping, timezone_name, date_order=date_order)
