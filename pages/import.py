"""Import: upload an export (or a tracker's CSV), see what would change, then load it; history and undo."""
import hashlib
from decimal import Decimal, InvalidOperation
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from billing import appdata, importing, ledger
from billing.customers import customer_label
from billing.display import code_text, duration_text, exact_minutes_us
from billing.errors import HourbankError
from billing.load import undo_import
from billing.pages.common import IMPORT_TIMES, import_history, undoable
from billing.trackers import preset_names
from pages import _ui as ui

st.title("Import")
st.caption("Load the time tracker's export. Nothing is saved until you have seen what would change; every "
           "import can be undone.")
c = ui.ctx()
if c.problem and (c.policy is None or c.db.exists()):
    st.info(c.problem)  # a bad policy or a database that cannot be read: nothing to import into
    st.stop()
if c.problem:
    st.info(f"{c.db} does not exist yet: the first import creates it.")
f = c.filters
FLASH = "import_flash"
# A change of data reruns the script (one snapshot per rerun): what was done is told after it.
if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH))


def hours_bought_text(hours: str) -> str:
    """The hours a purchase form was given ("1.5") as people read them ("1 h 30 min"); the
    purchase itself was checked by importing.record_purchase."""
    try:
        return duration_text(exact_minutes_us(str(Decimal(hours.strip().replace(",", ".")) * 60)))
    except (InvalidOperation, ValueError):
        return f"{hours} h"


def done_and_rerun(message: str) -> None:
    appdata.clear_caches()
    st.session_state[FLASH] = message
    st.rerun()


def _same(a: dict, b: dict) -> bool:
    """Preview options still in force (an edited mapping compares by its TOML text)."""
    def key(d):
        return {k: (v.to_toml() if hasattr(v, "to_toml") else v) for k, v in d.items()}
    return key(a) == key(b)


SCOPE_LABELS = {
    "auto": "Decide from the file: one person's (or one customer's) file removes only theirs",
    "team": "Whole team: any entry of the period that the file lacks",
    "staff": "Only the staff members this file has",
    "customers": "Only the customers this file has",
}


def removal_options(default: str, key: str) -> dict:
    """The removal scope and add-only, as the Import page asks them (billing.load.decide_scope)."""
    names = list(SCOPE_LABELS)
    scope = st.radio("What this import can remove", names, index=names.index(default),
                     format_func=SCOPE_LABELS.get, key=f"{key}_scope",
                     help="Per-person and per-client exports of the same days add up; a whole-team export "
                          "removes what was deleted in the tracker.")
    add_only = st.checkbox("Add only: remove nothing", key=f"{key}_add_only")
    return {"scope": scope, "add_only": add_only}


def period_option(label: str, key: str, help_text: str) -> dict:
    """A checkbox and, when ticked, the period the upload covers: {"period": (first, last)} or {}."""
    if not st.checkbox(label, key=f"{key}_has_period", help=help_text):
        return {}
    period = st.date_input("Period covered", value=(f.start, f.end), key=f"{key}_period")
    return {"period": (period[0], period[1])} if isinstance(period, (list, tuple)) and len(period) == 2 else {}


def show_result(result, title: str) -> None:
    from billing.load import reject_groups

    if result.nothing_read:
        st.error(f"{title}: no row could be read, so nothing would be imported; the {result.rejected} rejected "
                 "row(s) are listed below" + (" (importing records them in the history)." if result.dry_run else "."))
        ui.table(pd.DataFrame([{"rejected": n, "column": col, "reason": reason}
                               for col, reason, n in reject_groups(result.rejects)]))
        for hint in result.hints:
            st.markdown(f"- To change: {hint}")
    cols = st.columns(5)
    for col, (label, value) in zip(cols, [("added", result.added), ("replaced", result.replaced),
                                          ("removed", result.removed), ("unchanged", result.unchanged),
                                          ("rejected", result.rejected)]):
        col.metric(label, value)
    per_file = [{"file": name, "read": n.read, "added": n.added, "replaced": n.replaced, "removed": n.removed,
                 "unchanged": n.unchanged, "rejected": n.rejected} for name, n in result.files.items()]
    ui.table(pd.DataFrame(per_file))
    if result.period:
        st.caption(f"Period {result.period[0]}..{result.period[1]}, whole days of {result.period_zone}.")
    if result.scope is not None:
        st.info("Scope: " + result.scope.sentence(team_option="the scope 'Whole team'",
                                                  add_only_option="Add only"))
    for note in result.notices:
        st.caption(note)
    if result.new_customers:
        st.warning(f"{len(result.new_customers)} new customer id(s), not in the database yet: "
                   + ", ".join(result.new_customers)
                   + ". If one is an existing customer written another way, give its customer id in the customer map.")
    if result.removed:
        st.markdown(f"**{'Will be removed' if result.dry_run else 'Removed'}: {result.removed} row(s)**"
                    + ("" if len(result.removals) == result.removed else f" (the first {len(result.removals)} listed)"))
        ui.table(pd.DataFrame([{"what": r.table.replace("_", " "), "id": r.id, "day": r.day, "staff": r.staff,
                                "customer_id": r.customer_id, "time_us": exact_minutes_us(r.minutes)}
                               for r in result.removals[:1000]]), key=f"removals_{title}")
    if result.rejects:
        st.warning(f"{title}: {len(result.rejects)} row(s) are rejected: they are not loaded (and not lost); "
                   "correct them at the file and line shown and import again.")
        ui.table(pd.DataFrame([{"file": r.file, "line": r.line, "column": r.column, "reason": r.reason,
                                "record": r.record} for r in result.rejects[:500]]))


st.subheader("Upload")
uploads = st.file_uploader("The export's CSV files (time_entries.csv, appointments.csv, purchases.csv, "
                           "customers.csv), one zip of them, or a tracker's own export as CSV or XLSX (from Toggl, "
                           "Clockify, Harvest, Kimai, solidtime, Redmine, Jira or Tempo)",
                           type=["csv", "zip", "tsv", "txt", "xlsx", "xlsm", "xls", "ods"], accept_multiple_files=True,
                           key="uploads")
if uploads:
    blobs = [(u.name, u.getvalue()) for u in uploads]
    signature = hashlib.sha256(b"".join(n.encode() + hashlib.sha256(d).digest() for n, d in blobs)).hexdigest()
    if st.session_state.get("upload_sig") != signature:
        st.session_state["upload_sig"] = signature
        st.session_state.pop("preview", None)
        folder = Path(tempfile.mkdtemp(prefix="hourbank-upload-"))
        try:
            st.session_state["staged"] = importing.stage_uploads(blobs, folder)
        except HourbankError as exc:
            st.session_state["staged"] = None
            st.session_state["stage_error"] = str(exc)
    staged = st.session_state.get("staged")
    if staged is None:
        st.error(st.session_state.get("stage_error", "The upload cannot be read."))
        st.stop()

    options = {}
    if staged.tracker_file is not None:
        names = preset_names()
        detected = staged.tracker_preset
        st.info(f"{staged.tracker_file.name}: a tracker export"
                + (f", recognised as **{detected}**." if detected else "; choose its tracker below."))
        a, b, d = st.columns(3)
        preset = a.selectbox("Tracker", names, index=names.index(detected) if detected in names else 0)
        options["timezone_name"] = b.text_input("Time zone of its times", value=c.policy.timezone,
                                                help="Tracker exports carry wall times without an offset.")
        order = d.selectbox("Date order", ["decide from the file", "dmy", "mdy", "ymd"])
        options["date_order"] = None if order.startswith("decide") else order
        base = importing.tracker_mapping(preset)
        with st.expander("How the file maps: tiers, sessions, customers", expanded=False):
            y, n = st.columns(2)
            yes = y.selectbox("Billable = yes means", ["one_on_one", "general"], format_func=code_text,
                              index=["one_on_one", "general"].index(base.meaning.get("billable_yes", "one_on_one")))
            no = n.selectbox("Billable = no means", ["general", "one_on_one"], format_func=code_text,
                             index=["general", "one_on_one"].index(base.meaning.get("billable_no", "general")))
            meaning = {}
            for key, label in importing.MEANING_LISTS.items():
                text = st.text_input(label + " (comma-separated)", value=", ".join(base.meaning.get(key, [])),
                                     key=f"meaning_{key}")
                meaning[key] = text.split(",")
            draft = importing.tracker_mapping(preset, meaning, billable_yes=yes, billable_no=no)
            try:
                conv = importing.tracker_preview(staged, draft, options["timezone_name"] or None,
                                                 options["date_order"])
            except HourbankError as exc:
                st.error(str(exc))
                conv = None
            customers = {}
            if conv is not None and conv.unmapped_clients:
                st.caption("Clients that no customer-map entry names: give each its customer id (a client "
                           "renamed or written two ways can point at the same customer); left empty, the "
                           "client's name is used as the id.")
                edited = st.data_editor(
                    [{"client": name, "customer_id": ""} for name in conv.unmapped_clients],
                    disabled=["client"], hide_index=True, key="customer_map")
                customers = {r["client"]: r["customer_id"] for r in edited if r.get("customer_id")}
            mapping = importing.tracker_mapping(preset, meaning, customers, billable_yes=yes, billable_no=no)
            if conv is not None:
                st.caption(f"Mapped rows (first 50 of {conv.entries}):")
                head = conv.preview_head(50)
                head.insert(list(head.columns).index("minutes"), "minutes_us",
                            [exact_minutes_us(m) for m in head["minutes"]])
                ui.table(head.drop(columns=["minutes"]), {"line": "line in the file", "minutes": "time"})
            st.download_button("Save this mapping (TOML)", mapping.to_toml().encode(), f"{preset}-mapping.toml",
                               "application/toml", key="save_mapping",
                               help="Use it again: python -m billing import FILE --from MAPPING.toml")
        options["preset"] = mapping
        st.caption("A tracker file is imported as covering its first to its last day (whole days of its time "
                   "zone): an entry edited or deleted in the tracker replaces or removes the one loaded before "
                   "(never billed twice).")
        options.update(period_option("It covers another period than its first to last day", "tracker",
                                     "E.g. a whole month in which the first or last day has no entry left: "
                                     "entries deleted on those days are removed too."))
        options.update(removal_options("auto", "tracker"))
    else:
        st.write("Files: " + ", ".join(staged.canonical))
        chosen = period_option("This export covers a period", "import",
                               "Entries and appointments dated in the period that the export no longer contains "
                               "are removed (their previous version is kept and the import can be undone).")
        options.update(chosen)
        if chosen:
            options.update(removal_options("team", "canonical"))

    if st.button("Preview the changes", type="secondary", key="preview_btn"):
        try:
            st.session_state["preview"] = (importing.run_import(c.db, staged, c.policy, dry_run=True, **options),
                                           options)
        except HourbankError as exc:
            st.error(str(exc))
    preview = st.session_state.get("preview")
    if preview and _same(preview[1], options):
        show_result(preview[0], "Preview")
        label = "Record the rejected rows (nothing is imported)" if preview[0].nothing_read else "Import now"
        if st.button(label, type="primary", key="commit_btn"):
            try:
                # Exactly the rows the preview listed are removed, or nothing is saved.
                done = importing.run_import(c.db, staged, c.policy, dry_run=False,
                                            expect_removals=preview[0].removal_key, **options)
            except HourbankError as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("preview", None)
                done_and_rerun(f"Import {done.import_id} saved: {done.added} added, {done.replaced} replaced, "
                               f"{done.removed} removed, {done.rejected} rejected. Data version {done.data_version}."
                               + (f" It can be undone below (import {done.import_id})." if done.removed else ""))
    elif preview:
        st.caption("The options changed since the preview: preview again.")

st.subheader("Record a purchase")
with st.form("purchase", clear_on_submit=True):
    a, b, d, e = st.columns(4)
    ids = sorted(c.names)
    customer = a.selectbox("Customer", ids, format_func=lambda cid: customer_label(cid, c.names),
                           accept_new_options=True, index=None, placeholder="customer id")
    day = b.date_input("Purchased on", value=f.as_of)
    hours = d.text_input("Hours", value="10", help="A whole number of minutes: 1.5 yes, 0.0101 no.")
    amount = e.text_input("Amount paid (optional)", value="")
    if st.form_submit_button("Record purchase"):
        try:
            done = importing.record_purchase(c.db, c.policy, Path(tempfile.mkdtemp(prefix="hourbank-purchase-")),
                                             customer or "", day, hours, amount)
        except HourbankError as exc:
            st.error(str(exc))
        else:
            done_and_rerun(f"Purchase recorded as import {done.import_id}: {hours_bought_text(hours)} for "
                           f"{customer_label(customer, c.names)}, "
                           f"usable through {ledger.expires_on(day, c.policy)}.")

st.subheader("Import history")
imports, _ = ui.compute(appdata.recent_imports, c.db, c.version.number, 50) if c.version else (None, None)
if imports is None or imports.empty:
    st.info("No imports yet.")
else:
    ui.table(import_history(imports, c.policy.timezone), {"period_from": "period from", "period_to": "period to"},
             help={t: f"In {c.policy.timezone} (the policy's time zone)." for t in IMPORT_TIMES},
             wrap={"source": 200})
    live = undoable(imports)
    if live:
        # The selector follows the history: after a new import (or an undo) it offers the newest
        # import not undone, not the one chosen before; the confirmation belongs to one import.
        if st.session_state.get("undo_newest") != live[0] or st.session_state.get("undo_id", live[0]) not in live:
            st.session_state["undo_id"] = live[0]
            st.session_state["undo_newest"] = live[0]
        a, b = st.columns([1, 3])
        target = a.selectbox("Undo import", live, key="undo_id",
                             help="The newest import comes first; an import can be undone only if no later one "
                                  "changed the same rows.")
        confirm = b.checkbox(f"Yes, undo import {target}: its rows go and the versions it replaced or removed "
                             "come back", key=f"undo_confirm_{target}")
        if b.button("Undo", disabled=not confirm, key="undo_btn"):
            try:
                version = undo_import(c.db, target)
            except HourbankError as exc:
                st.error(str(exc))
            else:
                done_and_rerun(f"Import {target} undone (data version {version}).")
