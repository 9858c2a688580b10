"""The command line: python -m billing {import,report,imports,undo,rejects,adjust,adjustments,alerts,share,
close,reopen,closings,demo} …

Errors are one sentence on stderr (exit 1), never a traceback. Heavy modules (pandas)
are imported only by the commands that need them, so `import` starts fast.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date
from pathlib import Path

# numpy's OpenBLAS starts a pool of threads that spin for a while even when no matrix
# arithmetic is ever asked for (Hourbank asks for none): on a 2-core machine they took about
# 0.3 CPU-seconds from DuckDB and pandas per report (perf: blas_thread_server). One thread
# means no pool. Set before anything imports numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from billing.errors import HourbankError  # noqa: E402

REPORTS = ("daily", "blocks", "summary", "review")


def _default_db() -> str:
    from billing.store import DEFAULT_DB

    return os.environ.get("HOURBANK_DB") or str(DEFAULT_DB)


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def _date(text: str) -> date:
    """A day as the command line takes it: YYYY-MM-DD in ASCII digits (Python's own reader
    would also take "20261201" or "2026-W49-1", which nobody means and the help does not say)."""
    try:
        if _ISO_DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")


def _whole(text: str) -> int:
    """A count or a number a person types (an import's number, days, a seed): ASCII digits only
    (``int`` would take "+5", " 5" and "١٢")."""
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)")


def _period(text: str) -> tuple[date, date]:
    if ".." not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a period (FROM..TO, e.g. 2026-01-01..2026-01-31)")
    a, b = text.split("..", 1)
    try:
        first, last = _date(a), _date(b)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if first > last:
        raise argparse.ArgumentTypeError(f"{text!r}: the first day is after the last day")
    return first, last


class UsageError(HourbankError):
    """A command line that cannot be read (an option missing, a value of the wrong kind): one
    sentence naming the command, the option and what is wrong; main prints it, exit 1."""


PROG = "python -m billing"


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as Hourbank's one sentence (README: "Errors are one sentence on
    stderr with exit code 1") instead of a usage block and exit 2. Every subparser is one too
    (add_subparsers makes its parsers of the parent's class). --help is argparse's own."""

    def command(self) -> str:
        """The command this parser reads, "adjust credit" ('' for the top level)."""
        return self.prog.removeprefix(PROG).strip()

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            where = " ".join(w for w in (getattr(parsed, "command", None), getattr(parsed, "kind", None)) if w)
            raise UsageError(f"{where + ': ' if where else ''}{' '.join(extras)}: not an option or value "
                             f"{where or PROG} takes ({PROG} {where + ' ' if where else ''}--help lists them).")
        return parsed

    def error(self, message: str):
        sentence = " ".join(self._sentence(message).split())   # one line, whatever argparse said
        where = self.command()
        raise UsageError(f"{where + ': ' if where else ''}{sentence.rstrip('.')}.")

    def _action(self, name: str):
        for action in self._actions:
            if argparse._get_action_name(action) == name or name in action.option_strings:
                return action
        return None

    @staticmethod
    def _what(action) -> str:
        """An argument's help up to its first parenthesis: what it is, in words."""
        text = (action.help or "") if action is not None and action.help != argparse.SUPPRESS else ""
        return text.split(" (")[0].split("; ")[0].strip()

    def _choices(self, action) -> str:
        return ", ".join(str(c) for c in action.choices)

    def _sentence(self, message: str) -> str:
        required = re.match(r"the following arguments are required: (.*)", message, re.S)
        if required:
            names = [n.strip() for n in required.group(1).split(",")]
            parts, whats = [], []
            for name in names:
                action = self._action(name)
                if isinstance(action, argparse._SubParsersAction):
                    what = "a kind" if self.command() else "a command"
                    return (f"{what} is required: one of {self._choices(action)} "
                            f"({self.prog} --help says what each does)")
                what = self._what(action)
                parts.append(f"{name} ({what})" if what else name)
                whats.append(what)
            if len(names) == 1:   # "--reason is required (why the adjustment is made, in words)"
                return f"{names[0]} is required" + (f" ({whats[0]})" if whats[0] else "")
            return f"{', '.join(parts[:-1])} and {parts[-1]} are required"
        about = re.match(r"argument (.+?): (.*)", message, re.S)
        if not about:
            return message
        name, rest = about.groups()
        action = self._action(name)
        choice = re.match(r"invalid choice: (.*?) \(choose from", rest, re.S)
        if choice and action is not None and action.choices:
            if isinstance(action, argparse._SubParsersAction):
                kind = "kind" if self.command() else "command"
                return f"{choice.group(1)} is not a {kind}: one of {self._choices(action)}"
            return f"{name} {choice.group(1)} is not one of {self._choices(action)}"
        number = re.match(r"invalid (int|float) value: (.*)", rest, re.S)
        if number:
            return f"{name} {number.group(2)} is not a {'whole ' if number.group(1) == 'int' else ''}number"
        if rest.startswith("expected one argument"):
            what = self._what(action)
            return f"{name} needs a value" + (f" ({what})" if what else "")
        both = re.match(r"not allowed with argument (.*)", rest, re.S)
        if both:
            return f"{name} and {both.group(1)} cannot be given together"
        ignored = re.match(r"ignored explicit argument (.*)", rest, re.S)
        if ignored:
            return f"{name} takes no value ({ignored.group(1)} given)"
        return f"{name} {rest}"   # a type's own words: "--on '2026-13-01' is not a date (YYYY-MM-DD)"


def _presets() -> list[str]:
    """The shipped presets' names (read from the folder: the parser imports nothing heavy)."""
    return sorted(p.stem for p in (Path(__file__).resolve().parent / "trackers" / "presets").glob("*.toml"))


ADJUST_KINDS = [  # (kind, its target, help): R10
    ("extend", "PURCHASE_ID", "move a block's last day later (--to); adj-N names a credit's block"),
    ("waive", "APPOINTMENT_ID", "waive a late cancellation's or a no-show's fee"),
    ("exclude", "ENTRY_ID", "exclude a time entry: it counts toward nothing and stays listed"),
    ("credit", "CUSTOMER_ID", "credit a customer minutes (--minutes): a block purchased on the adjustment's date"),
    ("charge", "CUSTOMER_ID", "charge a customer minutes (--minutes), billed on the adjustment's date"),
    ("void", "ADJUSTMENT_ID", "void an adjustment from the void's date; both stay on record"),
]


TARGET_HELP = {  # what each kind's target is, in words: its help, and the error when it is missing
    "PURCHASE_ID": "the block's purchase id, or adj-N for a credit's block",
    "APPOINTMENT_ID": "the appointment whose fee is waived",
    "ENTRY_ID": "the time entry to exclude",
    "CUSTOMER_ID": "the customer's id (report summary lists them)",
    "ADJUSTMENT_ID": "the number of the adjustment to void (adjustments lists them)",
}


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Hourbank billing engine.")
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="load an export folder (or a tracker's CSV file) into the database")
    imp.add_argument("source", help="export folder with the canonical CSV files, or a tracker CSV with --from")
    imp.add_argument("--db", default=_default_db())
    imp.add_argument("--period", type=_period, help="FROM..TO covered by the export: rows in it that the "
                                                     "export no longer has are removed (with --from it wins "
                                                     "over the file's own first to last day)")
    imp.add_argument("--policy", help="policy TOML (default: billing.toml); its timezone dates --period")
    imp.add_argument("--from", dest="preset", help="tracker preset (" + ", ".join(_presets()) + ") or a mapping "
                                                    "TOML file; a single file is recognised without it")
    imp.add_argument("--timezone", help="time zone the export was written in: a tracker export's wall times, "
                                        "and the days --period covers (default: the policy's)")
    imp.add_argument("--date-order", choices=("dmy", "mdy", "ymd"),
                     help="how a tracker export writes dates, when its rows do not decide it")
    imp.add_argument("--dry-run", action="store_true", help="show what would change (and be removed), load nothing")
    imp.add_argument("--scope", choices=("auto", "team", "staff", "customers"),
                     help="what a period import may remove: auto (default for a tracker file: a file of one "
                          "staff member or one customer removes only theirs), team (default for an export "
                          "folder), staff or customers (only those the file has)")
    imp.add_argument("--add-only", action="store_true", help="add and replace, remove nothing")
    imp.add_argument("--yes", action="store_true", help="remove without asking (at a terminal, an import that "
                                                       "removes rows asks first)")

    rep = sub.add_parser("report", help="print a report, or write several to a folder")
    rep.add_argument("names", nargs="+", choices=REPORTS, metavar="NAME",
                     help="daily, blocks, summary or review; several (e.g. daily blocks summary) with --out")
    rep.add_argument("--out", help="folder to write each report to as NAME.csv (.json, .txt), from one "
                                   "computation of the books")
    rep.add_argument("--db", default=_default_db())
    rep.add_argument("--as-of", type=_date, help="report date T (default: today in the policy's zone)")
    rep.add_argument("--policy")
    rep.add_argument("--customer")
    rep.add_argument("--format", choices=("csv", "table", "json"),
                     help="table (for people; the default on screen), csv (FORMATS.md; the default with --out) or json")

    lst = sub.add_parser("imports", help="list the imports")
    lst.add_argument("--db", default=_default_db())
    lst.add_argument("--policy", help="policy TOML (default: billing.toml): its timezone is the one the times are "
                                      "shown in")

    und = sub.add_parser("undo", help="undo one import")
    und.add_argument("import_id", type=_whole, metavar="IMPORT_ID", help="the import's number (python -m billing imports lists them)")
    und.add_argument("--db", default=_default_db())

    rej = sub.add_parser("rejects", help="list the rows an import rejected")
    rej.add_argument("import_id", type=_whole, metavar="IMPORT_ID", nargs="?", help="the import's number (default: the latest import)")
    rej.add_argument("--db", default=_default_db())

    for name, flag, what in (("close", "--through", "close the books through a day (R12): its figures stay as they are"),
                             ("reopen", "--from", "reopen the books from a day (R12): they are computed again")):
        c = sub.add_parser(name, help=what)
        c.add_argument(flag, dest="day", type=_date, required=True, metavar="YYYY-MM-DD",
                       help=("the last day to close" if name == "close" else "the first day to reopen") + " (YYYY-MM-DD)")
        c.add_argument("--by", help="who closes or reopens (default: your user name)")
        c.add_argument("--reason")
        c.add_argument("--policy")
        c.add_argument("--db", default=_default_db())
    cl = sub.add_parser("closings", help="list the closes and reopens (R12)")
    cl.add_argument("--db", default=_default_db())
    cl.add_argument("--policy", help="its time zone dates the records in the table (default: billing.toml)")
    cl.add_argument("--format", choices=("table", "csv", "json"), default="table")
    adj = sub.add_parser("adjust", help="record an adjustment (R10): extend, waive, exclude, credit, charge, void")
    kinds = adj.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, target, helptext in ADJUST_KINDS:
        k = kinds.add_parser(kind, help=helptext)
        k.add_argument("target", metavar=target, help=TARGET_HELP[target])
        if kind == "extend":
            k.add_argument("--to", dest="to_day", type=_date, required=True, help="the block's new last day")
        if kind in ("credit", "charge"):
            k.add_argument("--minutes", required=True, help="minutes, a number > 0 (90, 12.5), kept exact")
        k.add_argument("--reason", required=True, help="why the adjustment is made, in words (kept with it; "
                                                       "statements show it)")
        k.add_argument("--on", type=_date, help="the adjustment's date: reports as of this day or later apply it "
                                                "(default: today in the policy's zone)")
        k.add_argument("--by", help="who records it (default: your user name)")
        k.add_argument("--policy", help="policy TOML (default: billing.toml): its zone's today, R7 validity, R6 fees")
        k.add_argument("--db", default=_default_db())

    adjs = sub.add_parser("adjustments", help="list the adjustments, voids included")
    adjs.add_argument("--customer", help="only this customer's")
    adjs.add_argument("--format", choices=("csv", "table", "json"), default="table",
                      help="table (for people; the default), csv or json (exact minutes)")
    adjs.add_argument("--db", default=_default_db())
    al = sub.add_parser("alerts", help="the alerts due (expiring hours, low balance, overage): print them, or "
                                       "send them (daily, from cron or a systemd timer)")
    al.add_argument("--as-of", type=_date, help="the day T (default: today in the policy's zone)")
    mode = al.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="print exactly what --send would send; send and record nothing (the default)")
    mode.add_argument("--send", action="store_true",
                      help="send the alerts not sent yet and record each outcome; exit 3 if a message failed "
                           "(it is sent again by the next run)")
    mode.add_argument("--test", action="store_true",
                      help="send a test message to each manager and the webhook, to check the settings")
    al.add_argument("--db", default=_default_db())
    al.add_argument("--policy", help="policy TOML with an [alerts] table (default: billing.toml)")

    shr = sub.add_parser("share", help="make, list or revoke a link to one customer's own read-only page")
    shr.add_argument("customer", nargs="?", metavar="CUSTOMER_ID", help="the customer the link shows")
    shr.add_argument("--days", type=_whole, default=90, help="how long the link is good for (1-366 days, default 90)")
    shr.add_argument("--base-url", help="the dashboard's address as customers reach it (default: [auth] "
                                        "redirect_uri of .streamlit/secrets.toml without /oauth2callback, "
                                        "else http://localhost:8501)")
    shr.add_argument("--list", action="store_true", help="list the links: who made them, until when, revoked")
    shr.add_argument("--revoke", metavar="LINK_ID", help="revoke a link: its page refuses from now on")
    shr.add_argument("--db", default=_default_db())
    shr.add_argument("--policy", help="policy TOML (default: billing.toml); its timezone dates the times shown")

    demo = sub.add_parser("demo", help="write a realistic demo export")
    demo.add_argument("--out", required=True, help="the folder to write the demo export to")
    demo.add_argument("--today", type=_date, help="the demo's 'today' (default: today)")
    demo.add_argument("--seed", type=_whole, default=7)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)   # --help prints and exits 0, as argparse does
        return COMMANDS[args.command](args)
    except HourbankError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing of the running import was saved.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`report daily | head`): it has what it wanted. Say nothing more,
        # and send what is still buffered nowhere, so that closing stdout cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def cmd_import(args) -> int:
    from billing.load import import_export
    from billing.policy import load_policy

    policy = load_policy(args.policy)
    source = Path(args.source)
    # A single file that is not one of the canonical export's files is a tracker's export
    # (CSV or spreadsheet): recognised from its header row unless --from says which.
    from billing.load import SPECS
    tracker = bool(args.preset) or (source.is_file() and source.name not in {s.filename for s in SPECS.values()})
    preset = args.preset or "auto"
    if args.scope and not tracker and not args.period:
        raise HourbankError("--scope limits what a period import removes: give --period FROM..TO too "
                            "(an export folder without it removes nothing).")
    scope = args.scope or ("auto" if tracker else "team")

    if tracker and "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        # The converter makes and drops many column-sized Arrow buffers. Arrow's default pool
        # (mimalloc) hands them back to the system each time: at 1M rows that cost 1.5 s of
        # page faults (sys time 2.3 s against 0.8 s with jemalloc, bench/bench_tracker.py).
        import pyarrow as pa

        if "jemalloc" in pa.supported_memory_backends():
            pa.set_memory_pool(pa.jemalloc_memory_pool())

    def run(dry_run: bool, expect: str | None = None):
        """(ImportResult, TrackerImport or None)."""
        if tracker:
            from billing.trackers import import_tracker_file

            done = import_tracker_file(args.db, source, preset, timezone=args.timezone,
                                       dry_run=dry_run, policy=policy, date_order=args.date_order,
                                       period=args.period, scope=scope, add_only=args.add_only,
                                       expect_removals=expect)
            return done.result, done
        return import_export(args.db, source, period=args.period, policy=policy, dry_run=dry_run,
                             scope=scope, add_only=args.add_only, timezone=args.timezone,
                             expect_removals=expect), None

    can_remove = (tracker or args.period) and not args.add_only
    if args.dry_run or not (can_remove and sys.stdin.isatty() and not args.yes):
        result, done = run(args.dry_run)
    else:
        # At a terminal: show what would be removed and ask before anything is saved; the
        # import then removes exactly those rows (or stops if the data changed meanwhile).
        preview, done = run(True)
        if preview is not None and preview.removed and not (done and done.nothing_read):
            print(format_import(preview, tracker=done, asking=True, names=_names_for(args.db, preview)))
            one = preview.removed == 1
            what = ("entry" if one else "entries") if all(r.table == "time_entries" for r in preview.removals) \
                else ("row" if one else "entries and appointments")
            sys.stdout.write(f"Remove {'this' if one else 'these'} {preview.removed} {what} and import? [y/N] ")
            sys.stdout.flush()
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                print(f"nothing saved: the {preview.removed} {what} {'was' if one else 'were'} not removed and nothing "
                      f"was imported "
                      f"(--add-only imports without removing anything).", file=sys.stderr)
                return 1
        result, done = run(False, preview.removal_key if preview is not None else None)
    if result is None:
        print(f"{args.source}: the file has a header row but no entries; nothing imported.")
        return 1
    print(format_import(result, tracker=done, names=_names_for(args.db, result)))
    if done is not None and done.nothing_read:
        return 1
    return 0


def _fit(text: str) -> str:
    """A listing's lines fitted to the terminal (billing.text_table.wrap_lines: broken between
    words, continued indented; COLUMNS, else the terminal, else 80)."""
    from billing.text_table import terminal_width, wrap_lines

    return wrap_lines(text, terminal_width())


def _names_for(db, result) -> dict[str, str]:
    """The customers' names (billing.customers) for an import summary that lists removals;
    {} when it lists none or the database is not there (a dry run into a new file)."""
    if not result.removals or not Path(db).exists():
        return {}
    from billing.customers import customer_names
    from billing.store import open_db

    with open_db(db, read_only=True) as con:
        return customer_names(con)


def format_import(result, max_rejects: int = 10, *, tracker=None, max_removals: int = 20,
                  asking: bool = False, names: dict[str, str] | None = None) -> str:
    """The import summary: counts, the period and its zone, the removal scope in words, what is
    (or would be) removed, new customers, notices and the first rejects; for a tracker file
    none of whose rows converts, the rejects grouped by reason and what to change."""
    from billing.customers import customer_label
    from billing.display import MISSING, duration_text, exact_minutes_us
    from billing.load import reject_groups

    head = ("this import would make" if asking else "dry run, nothing saved") if result.dry_run \
        else f"import {result.import_id}"
    zone = f", days of {result.period_zone}" if result.period_zone else ""
    lines = [f"{head}: {result.added} added, {result.replaced} replaced, {result.removed} removed, "
             f"{result.unchanged} unchanged, {result.rejected} rejected"
             + (f" (period {result.period[0]}..{result.period[1]}{zone})" if result.period else "")]
    for name, c in result.files.items():
        lines.append(f"  {name}: {c.read} read, {c.added} added, {c.replaced} replaced, {c.removed} removed, "
                     f"{c.unchanged} unchanged, {c.rejected} rejected")
    if result.scope is not None:
        lines.append("scope: " + result.scope.sentence())
    lines += [f"note: {n}" for n in result.notices]
    if result.new_customers:
        shown, more = result.new_customers[:12], len(result.new_customers) - 12
        lines.append(f"new customers (not in the database yet): {', '.join(shown)}"
                     + (f" and {more} more" if more > 0 else ""))
    if result.removed:
        verb = "would be removed" if result.dry_run else "removed"
        shown = result.removals[:max_removals]
        lines.append(f"{verb} ({result.removed}" + (f", first {len(shown)}" if len(shown) < result.removed else "")
                     + "): id, day, staff, customer, time")
        lines += [f"  {r.id}  {r.day}  {r.staff or MISSING}  {customer_label(r.customer_id, names or {})}  "
                  f"{duration_text(exact_minutes_us(r.minutes))}" for r in shown]
        if not result.dry_run:
            lines.append(f"undo: python -m billing undo {result.import_id}")
    if result.rejects:
        lines.append(f"rejected rows (first {min(max_rejects, len(result.rejects))} of {len(result.rejects)}):")
        lines += [f"  {r}" for r in result.rejects[:max_rejects]]
        if not result.dry_run:
            lines.append(f"all of them: python -m billing rejects {result.import_id}")
    if tracker is not None and tracker.nothing_read:
        lines.append("rejected, by reason:")
        lines += [f"  {n} × {f'column {col!r}: ' if col else ''}{reason}" for col, reason, n in reject_groups(result.rejects)]
        lines += [f"to change: {h}" for h in tracker.hints]
        source = tracker.conversion.source_file
        lines.append(f"nothing imported: no row of {source} could be read"
                     + ("." if result.dry_run else f"; its rejects are recorded as import {result.import_id}."))
    return "\n".join(lines)


def cmd_report(args) -> int:
    from billing.policy import load_policy
    from billing.reports import compute_books, report_frame
    from billing.store import open_db

    names = list(dict.fromkeys(args.names))
    if len(names) > 1 and not args.out:
        raise HourbankError(f"{len(names)} reports ({', '.join(names)}) need a folder to go to: add --out DIR.")
    fmt = args.format or ("csv" if args.out else "table")
    policy = load_policy(args.policy)
    from billing.calendar import today_in

    as_of = args.as_of or today_in(policy.timezone)
    with open_db(args.db, read_only=True) as con:
        named = _customer_names_checked(con, args.customer, args.db) if args.customer is not None or \
            fmt == "table" else None
        # Once, for every report asked (review needs none: only appointments and entries).
        books = compute_books(con, policy, as_of, args.customer) if set(names) - {"review"} else None
        reports = [(name, *report_frame(con, name, policy, as_of, customer=args.customer, books=books))
                   for name in names]
    if not args.out:
        name, rows, columns = reports[0]
        from billing.text_table import terminal_width

        _print_report(rows, columns, fmt, sys.stdout.buffer, named, name, terminal_width())
        return 0
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, rows, columns in reports:
            path = out / f"{name}.{ {'csv': 'csv', 'json': 'json', 'table': 'txt'}[fmt]}"
            with path.open("wb") as sink:
                _print_report(rows, columns, fmt, sink, named, name)  # a file: every column, full width
            print(f"{path}: {len(rows)} rows")
    except OSError as exc:
        raise HourbankError(f"{out}: cannot write the reports there ({exc.strerror or exc}).") from None
    return 0


def _customer_names_checked(con, customer: str | None, db) -> dict[str, str]:
    """customer id → name (billing.customers); an unknown ``--customer`` is an error that names
    it (before, it printed "(no rows)" and exited 0, which reads as "nothing happened")."""
    from billing.customers import customers_frame, unknown_customer_message

    frame = customers_frame(con)
    if customer is not None:
        problem = unknown_customer_message(customer, frame, str(db))
        if problem:
            raise HourbankError(f"--customer {customer}: {problem}")
    return {cid: name for cid, name in zip(frame["customer_id"], frame["customer_name"]) if name}


def _print_report(rows, columns, fmt: str, sink, names: dict[str, str] | None = None,
                  report: str | None = None, width: int | None = None) -> None:
    """One report into ``sink``; a table fitted to ``width`` cells (None: every column)."""
    from billing.reports import as_table, write_csv
    from billing.text_table import write_report_table

    sys.stdout.flush()
    if fmt == "csv":
        write_csv(rows, columns, sink)
    elif fmt == "table":
        write_report_table(rows, columns, sink, names, report, width)
    else:
        sink.write(render_json(as_table(rows, columns).to_pandas()).encode())
    sink.flush()




def render_json(frame) -> str:
    """The report as a JSON list of objects: minutes as numbers, a missing value as null."""
    import json

    rows = []
    for rec in frame.to_dict(orient="records"):
        rows.append({k: (float(v) if k.endswith("_minutes") else (v or None)) for k, v in rec.items()})
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


def cmd_imports(args) -> int:
    from billing.display import zone_datetime_text
    from billing.load import list_imports
    from billing.policy import load_policy
    from billing.store import open_db

    zone = load_policy(args.policy).timezone
    with open_db(args.db, read_only=True) as con:
        df = list_imports(con)
    if df.empty:
        print("no imports yet")
        return 0
    import json

    # The database records UTC; people read the policy's zone, and the zone is said once.
    print(f"times in {zone}")
    lines = []
    for r in df.itertuples(index=False):
        period = (f" period {r.period_from:%Y-%m-%d}..{r.period_to:%Y-%m-%d}"
                  if r.period_from is not None and str(r.period_from) != "NaT" else "")
        scope = (json.loads(r.notes) or {}).get("scope") if isinstance(r.notes, str) else None
        period += f" scope {scope['used']}" if scope else ""
        undone = f"  UNDONE {zone_datetime_text(r.undone_at, zone)}" if str(r.undone_at) not in ("NaT", "None") else ""
        lines.append(f"{r.import_id:>4}  {zone_datetime_text(r.imported_at, zone)}  {r.source}{period}: {r.added} added, "
                     f"{r.replaced} replaced, {r.removed} removed, {r.unchanged} unchanged, {r.rejected} "
                     f"rejected{undone}")
    print(_fit("\n".join(lines)))
    return 0


def cmd_undo(args) -> int:
    from billing.load import undo_import

    version = undo_import(args.db, args.import_id)
    print(f"import {args.import_id} undone (data version {version}).")
    return 0


def cmd_rejects(args) -> int:
    from billing.store import open_db

    with open_db(args.db, read_only=True) as con:
        import_id = args.import_id or con.execute("SELECT max(import_id) FROM imports").fetchone()[0]
        if import_id is None:
            raise HourbankError("there are no imports yet.")
        if con.execute("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]).fetchone()[0] == 0:
            raise HourbankError(f"there is no import {import_id} (python -m billing imports lists them).")
        rows = con.execute('SELECT file, line, "column", reason FROM rejects WHERE import_id = ? '
                           "ORDER BY file, line", [import_id]).fetchall()
    if not rows:
        print(f"import {import_id}: no rejected rows")
    for file, line, column, reason in rows:
        print(_fit(f"{file}" + (f", line {line}" if line else "") + (f", column '{column}'" if column else "")
                   + f": {reason}"))
    return 0


SEND_FAILED = 3  # the exit code of `alerts --send` (and --test) when a message could not be sent


def cmd_alerts(args) -> int:
    from billing.alerts.run import make_plan, plan_text, run_alerts, send_check, summary_line
    from billing.alerts.settings import load_alert_settings
    from billing.calendar import today_in
    from billing.policy import load_policy

    policy = load_policy(args.policy)
    settings = load_alert_settings(args.policy)
    as_of = args.as_of or today_in(policy.timezone)

    def show(outcome) -> None:
        m = outcome.message
        if outcome.ok:
            print(f"sent: {m.header()}: {m.subject}", flush=True)
        else:
            print(f"FAILED: {m.header()}: {outcome.error}", file=sys.stderr, flush=True)

    if args.test:
        outcomes = send_check(args.db, settings, as_of)
        for outcome in outcomes:
            show(outcome)
        return 0 if all(o.ok for o in outcomes) else SEND_FAILED
    if not args.send:
        from billing.text_table import terminal_width

        print(plan_text(make_plan(args.db, policy, settings, as_of), terminal_width()), end="")
        print("dry run: nothing sent or recorded; --send sends these messages.")
        return 0
    plan, outcomes = run_alerts(args.db, policy, settings, as_of, progress=show,
                                on_plan=lambda plan: print(summary_line(plan), flush=True))
    failed = sum(not o.ok for o in outcomes)
    if outcomes:
        print(f"{len(outcomes) - failed} sent, {failed} failed"
              + (" (recorded; the next run sends them again)." if failed else "."))
    return SEND_FAILED if failed else 0
def cmd_close(args) -> int:
    from billing.closing import close
    from billing.policy import load_policy

    from billing.calendar import today_in
    from billing.closing import posted_after_close, posted_after_close_text
    from billing.customers import customer_names
    from billing.store import open_db

    policy = load_policy(args.policy)
    cid = close(args.db, args.day, policy, by=args.by or _os_user(), reason=args.reason)
    print(f"closed through {args.day} (closing {cid}): those days' figures stay as they are; "
          f"later changes to them post on the next day.")
    # A close is computed as of its day (R12, R10): what is dated after it but changes a closed
    # day (an adjustment recorded since, say) posts on the first open day at once. Say so.
    with open_db(args.db, read_only=True) as con:
        posted = posted_after_close(con, policy, today_in(policy.timezone))
        lines = posted_after_close_text(posted, args.day, customer_names(con))
    for i, line in enumerate(lines):
        print(("  " if i else "") + line)
    return 0


def cmd_reopen(args) -> int:
    from billing.closing import reopen
    from billing.policy import load_policy

    cid = reopen(args.db, args.day, by=args.by or _os_user(), policy=load_policy(args.policy), reason=args.reason)
    print(f"reopened from {args.day} (record {cid}): those days are computed again from the data.")
    return 0


def cmd_closings(args) -> int:
    import json

    from billing.closing import history
    from billing.store import open_db

    with open_db(args.db, read_only=True) as con:
        h = history(con)
    if args.format == "json":
        print(json.dumps([{"id": int(r.closing_id), "kind": r.kind, "day": str(pd_date(r.day)),
                           "recorded_at": f"{r.recorded_at:%Y-%m-%dT%H:%M:%S}Z", "by": r.recorded_by,
                           "reason": r.reason if isinstance(r.reason, str) else None, "in_force": bool(r.in_force)} for r in h.itertuples()], indent=1))
        return 0
    if args.format == "csv":
        print("id,kind,day,recorded_at,by,reason,in_force")
        from billing.reports import csv_field
        for r in h.itertuples():
            print(f"{r.closing_id},{r.kind},{pd_date(r.day)},{r.recorded_at:%Y-%m-%dT%H:%M:%S}Z,"
                  f"{csv_field(r.recorded_by)},{csv_field(r.reason if isinstance(r.reason, str) else '')},{str(bool(r.in_force)).lower()}")
        return 0
    if h.empty:
        print("the books have never been closed")
        return 0
    from billing.display import date_text
    from billing.policy import load_policy

    zone = load_policy(args.policy).timezone  # "on" is the day in the policy's zone, as `close` counts days
    for r in h.itertuples():
        what = f"closed through {date_text(pd_date(r.day))}" if r.kind == "close" else \
            f"reopened from {date_text(pd_date(r.day))}"
        mark = " (in force)" if r.in_force else ""   # beside what it is, not at the end of a wrapped line
        why = f" — {r.reason}" if isinstance(r.reason, str) and r.reason else ""
        local = pd_date(r.recorded_at.tz_localize("UTC").tz_convert(zone))
        print(_fit(f"{r.closing_id:>4}  {what}{mark}, by {r.recorded_by} on {date_text(local)}{why}"))
    return 0


def pd_date(value):
    """A date from what DuckDB gives for a DATE or TIMESTAMP (Timestamp or date)."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def cmd_share(args) -> int:
    from billing import share
    from billing.policy import load_policy

    asked = [bool(args.customer), args.list, args.revoke is not None]
    if sum(asked) != 1:
        raise HourbankError("share needs exactly one of: a CUSTOMER_ID (make a link), --list, or "
                            "--revoke LINK_ID.")
    zone = load_policy(args.policy).timezone
    if args.list:
        from billing.customers import customer_names
        from billing.store import open_db

        with open_db(args.db, read_only=True) as con:
            frame, names = share.links(con), customer_names(con)
        if frame.empty:
            print("no links yet (python -m billing share CUSTOMER_ID makes one)")
            return 0
        for r in frame.itertuples(index=False):
            name = f" ({names[r.customer_id]})" if names.get(r.customer_id) else ""
            line = (f"{r.link_id}  {r.status:<7}  {r.customer_id}{name}  made {share.local_text(r.created_at, zone)}"
                    f" by {r.created_by or 'unknown'}  good until {share.local_text(r.expires_at, zone)}")
            if r.status == "revoked":
                line += f"  revoked {share.local_text(r.revoked_at, zone)} by {r.revoked_by or 'unknown'}"
            print(_fit(line))
        return 0
    if args.revoke is not None:
        customer, now = share.revoke_link(args.db, args.revoke, revoked_by=share.who_runs_this())
        print(f"link {args.revoke} to {customer}'s page " + ("revoked: it opens nothing from now on." if now
                                                             else "was already revoked."))
        return 0
    settings = share.read_secrets_files()
    secret = share.share_secret(settings)
    base = share.check_base_url(args.base_url) if args.base_url else share.default_base_url(settings)
    link = share.create_link(args.db, secret, args.customer, args.days, base, created_by=share.who_runs_this())
    print(link.url)
    print(f"link {link.link_id} to {link.customer_id}'s page, good until {share.local_text(link.expires_at, zone)}; "
          f"revoke it with: python -m billing share --revoke {link.link_id}", file=sys.stderr)
    return 0


def cmd_demo(args) -> int:
    from billing.demo import write_demo

    counts = write_demo(Path(args.out), today=args.today, seed=args.seed)
    print(f"demo export written to {args.out}: "
          + ", ".join(f"{n} {name}" for name, n in counts.items()))
    return 0


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise HourbankError("cannot tell who you are from the system: give --by NAME.") from None


def cmd_adjust(args) -> int:
    from billing import adjustments
    from billing.customers import customer_names
    from billing.policy import load_policy
    from billing.store import open_db

    policy = load_policy(args.policy)
    by = args.by if args.by is not None else _os_user()
    number = adjustments.record(args.db, args.kind, args.target, on=args.on, by=by, reason=args.reason,
                                to_day=getattr(args, "to_day", None), minutes=getattr(args, "minutes", None),
                                policy=policy)
    with open_db(args.db, read_only=True) as con:
        row = adjustments.history(con).set_index("adjustment_id").loc[number]
        names = customer_names(con)
    from billing.display import exact_duration_text

    # The amount exactly as recorded ("12 min 30 s", not "13 min"): the one read-back of what was typed.
    who = f"{row.customer_id} ({names[row.customer_id]})" if names.get(row.customer_id) else row.customer_id
    print(f"adjustment {number} recorded: "
          f"{adjustments.what_text(row.kind, row.target, row.to_day, row.minutes_us, exact_duration_text)} for {who}, "
          f"dated {row.on_day.isoformat()}.")
    return 0


def cmd_adjustments(args) -> int:
    import json

    from billing import adjustments
    from billing.store import open_db

    with open_db(args.db, read_only=True) as con:
        frame = adjustments.history(con, args.customer)
        # An id the data does not have is an error that points at the id when it is a name
        # (as report --customer); a customer with no adjustment lists none.
        names = _customer_names_checked(con, args.customer if frame.empty else None, args.db)
    if args.format == "table":
        import pyarrow as pa

        from billing.text_table import ADJUSTMENT_COLUMNS, frame_columns, terminal_width, write_fitted

        people = adjustments.people_frame(frame, names)
        write_fitted(pa.Table.from_pandas(people.astype("str"), preserve_index=False),
                     frame_columns(list(people.columns), ADJUSTMENT_COLUMNS), sys.stdout.buffer, terminal_width(),
                     footer=f"({len(people)} row{'' if len(people) == 1 else 's'}; times to the minute, exact in --format csv)")
    elif args.format == "csv":
        sys.stdout.write(adjustments.listing(frame).to_csv(index=False, lineterminator="\n"))
    else:
        rows = adjustments.listing(frame).to_dict(orient="records")
        for r in rows:
            r["adjustment_id"] = int(r["adjustment_id"])
            r["voided_by"] = int(r["voided_by"]) if r["voided_by"] else None
            r["minutes"] = float(r["minutes"]) if r["minutes"] else None
            for key in ("to_day", "voided_on"):
                r[key] = r[key] or None
        sys.stdout.write(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    return 0


COMMANDS = {"import": cmd_import, "report": cmd_report, "imports": cmd_imports, "undo": cmd_undo,
            "rejects": cmd_rejects, "adjust": cmd_adjust, "adjustments": cmd_adjustments, "alerts": cmd_alerts,
            "share": cmd_share, "demo": cmd_demo, "close": cmd_close, "reopen": cmd_reopen, "closings": cmd_closings}


def run() -> None:
    """Run the command line as a process: without the cyclic garbage collector, and ended
    without the interpreter's teardown. By then the output is flushed and the database
    closed, and freeing a large report's frames object by object costs about 0.14 s at 1M
    entries (measured with bench/bench_engine.py)."""
    import gc

    gc.disable()  # a short run that makes no reference cycles worth collecting (pandas' import
    #               alone triggers dozens of full collections)
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = 0
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
