"""What a tracker row means: R2 tier, R4 sessions, R3 customer-requested, activity.

    read_meanings(ctx, client, errors, notes) -> Meanings
    decide_tier(mapping, client, project, tags, billable) -> (tier, field, how or reason)
    decide_activity(mapping, sources, tags) -> activity
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from billing import canonical
from billing.trackers.columns import (
    Context, codes_of, distinct_tuples, parse_each, per_distinct, spread, texts_of)
from billing.trackers.mapping import Mapping, norm
from billing.trackers.rows import Errors
from billing.trackers.values import parse_bool

SEED_ACTIVITIES = tuple(canonical.SEED_ACTIVITIES)


@dataclass
class Meanings:
    """Per row of a table: its project, task and tags cells (Arrow texts); ``billable``, the
    billable flag (object array of True/False/None, or None without a billable column);
    ``tier`` ("one_on_one", "general", or "" where undecided; numpy text array), ``how`` the
    tier was decided (see ``decide_tier``), ``session`` and ``requested`` (boolean arrays) and
    ``activity`` (Arrow texts)."""
    project: pa.Array
    task: pa.Array
    tags: pa.Array
    billable: np.ndarray | None
    tier: np.ndarray
    how: np.ndarray
    session: np.ndarray
    requested: np.ndarray
    activity: pa.Array


def read_meanings(ctx: Context, client: pa.Array, errors: Errors, notes: list[str]) -> Meanings:
    """The tier, session, customer-requested flag and activity of each row of ``ctx``
    (``client``: its client cells). Rows whose billable, session or customer-requested cell
    cannot be read, or whose tier nothing decides, are rejected in ``errors``; sentences for
    the import summary are appended to ``notes``. Raises nothing of its own."""
    project, task, tags_text = ctx.cell("project"), ctx.cell("task"), ctx.cell("tags")
    billable, tier, how = _read_tier(ctx, client, project, tags_text, errors, notes)
    session, requested, activity = _read_session_and_activity(ctx, project, task, tags_text, errors)
    ok = errors.ok
    if billable is not None and ok.any() and ctx.has("billable"):
        flags = billable[ok]
        decided_by_flag = how[ok] == "billable"
        if decided_by_flag.all() and not np.equal(flags, True).any():
            notes.append(f"{ctx.column_name('billable')} is No on every row: "
                         f"{'all ' + str(int(ok.sum())) + ' entries load' if ok.sum() > 1 else 'its entry loads'} as "
                         f"General Support (free, R2), so nothing in this file is billable. If that is wrong, "
                         f"check the export or set meaning.billable_no in a mapping.")
    return Meanings(project=project, task=task, tags=tags_text, billable=billable, tier=tier, how=how,
                    session=session, requested=requested, activity=activity)


def _read_tier(ctx: Context, client, project, tags_text, errors: Errors, notes: list[str]):
    """(billable flags, tier, how) per row (R2)."""
    mapping, n = ctx.mapping, ctx.n
    billable = _bool_column(ctx, "billable", errors)
    billable_text = pa.array(np.where(np.equal(billable, None), "", np.where(np.equal(billable, True), "True", "False"))
                             if billable is not None else [""] * n, pa.string())
    separator = mapping.format["tags_separator"]
    tier_inverse, tier_tuples = distinct_tuples(client, project, tags_text, billable_text)
    decided = [decide_tier(mapping, c, p, _tags(t, separator), None if b == "" else b == "True")
               for c, p, t, b in tier_tuples]
    tier = np.array([d[0] or "" for d in decided] or [""], dtype="U10")[tier_inverse] if n else np.zeros(0, "U10")
    how = np.array([d[2] for d in decided] or [""], dtype=object)[tier_inverse] if n else np.zeros(0, object)
    undecided = np.equal(tier, "")
    if undecided.any() and not ctx.has("billable"):
        # No column decides the tier (Kimai 1.x, some Clockify exports): the work is the team's
        # paid 1-on-1 time (R2), as the summary says, with the setting that changes it.
        tier = np.where(undecided, "one_on_one", tier)
        count = int((undecided & errors.ok).sum())
        if count:
            notes.append(f"The file has no column that says whether work is billable: {count} "
                         f"entr{'ies load' if count > 1 else 'y loads'} as 1-on-1 (billable, R2). To change that, "
                         f"set meaning.default_tier = \"general\" or name the General Support projects or "
                         f"tags (meaning.general_projects, meaning.general_tags) in a mapping.")
        undecided = np.zeros(n, bool)
    if undecided.any():
        field_of = np.array([d[1] or "" for d in decided], dtype=object)[tier_inverse]
        for fld in ("client", "project", "tags", "billable"):
            column_name = ctx.column_name(fld) if ctx.has(fld) else fld
            errors.fail(undecided & (field_of == fld), column_name, how)
    return billable, tier, how


def _read_session_and_activity(ctx: Context, project, task, tags_text, errors: Errors):
    """(session, customer-requested, activity) per row (R4, R3)."""
    mapping, n = ctx.mapping, ctx.n
    separator = mapping.format["tags_separator"]
    session_flag = _bool_column(ctx, "session", errors)
    requested_flag = _bool_column(ctx, "customer_requested", errors)
    meaning = mapping.meaning
    session = per_distinct(
        lambda p, t, k: _in(p, meaning["session_projects"]) or _any_in(_tags(t, separator), meaning["session_tags"])
        or _in(k, meaning["session_tasks"]), project, tags_text, task).astype(bool) if n else np.zeros(0, bool)
    if session_flag is not None:
        session |= np.equal(session_flag, True)
    requested = per_distinct(lambda t: _any_in(_tags(t, separator), meaning["requested_tags"]),
                             tags_text).astype(bool) if n else np.zeros(0, bool)
    if requested_flag is not None:
        requested |= np.equal(requested_flag, True)
    activity_sources = [s for s in meaning["activity_from"] if s != "tags"]
    activity_cells = [ctx.cell(s) for s in activity_sources]
    activity_inverse, activity_tuples = distinct_tuples(tags_text, *activity_cells)
    activity = texts_of([decide_activity(mapping, dict(zip(activity_sources, cells)), _tags(t, separator))
                         for t, *cells in activity_tuples], activity_inverse)
    return session, requested, activity


def _in(value: str, names: list[str]) -> bool:
    """Whether ``value`` is one of ``names`` (as ``norm`` compares them)."""
    return bool(value) and norm(value) in {norm(n) for n in names}


def _any_in(values: list[str], names: list[str]) -> bool:
    """Whether any of ``values`` is one of ``names`` (as ``norm`` compares them)."""
    wanted = {norm(n) for n in names}
    return any(norm(v) in wanted for v in values)


def _tags(text: str, separator: str) -> list[str]:
    """The tags of a tags cell, split at ``separator``, trimmed, empty ones left out."""
    return [t.strip() for t in text.split(separator) if t.strip()]


def decide_tier(mapping: Mapping, client: str, project: str, tags: list[str],
                billable: bool | None) -> tuple[str | None, str | None, str]:
    """R2: (tier, None, how) or (None, field, reason): from client, project, tags (in that
    order), then the billable flag (None: not given), then the mapping's default tier.

    ``how`` is "clients", "projects", "tags", "billable" or "default"; without a tier,
    ``field`` names the field to blame and ``reason`` says why. Raises nothing."""
    meaning = mapping.meaning
    for kind, values in (("clients", [client]), ("projects", [project]), ("tags", tags)):
        general = _any_in(values, meaning[f"general_{kind}"])
        one = _any_in(values, meaning[f"one_on_one_{kind}"])
        if general and one:
            return None, ("tags" if kind == "tags" else kind[:-1]), \
                f"its {kind} mean both one_on_one and general (R2); fix the mapping"
        if general or one:
            return ("general" if general else "one_on_one"), None, kind
    if billable is not None:
        return (meaning["billable_yes"] if billable else meaning["billable_no"]), None, "billable"
    if meaning["default_tier"]:
        return meaning["default_tier"], None, "default"
    return None, "billable", ("nothing says whether this is one_on_one or general work (R2); "
                              "set a billable column or default_tier in the mapping")


def decide_activity(mapping: Mapping, sources: dict[str, str], tags: list[str]) -> str:
    """Task, tags, project, ... -> activity text ("" for none): ``sources`` maps a field
    of ``meaning.activity_from`` to its text, ``tags`` are the row's tags; the mapping's
    activity map applies, and a name that reads as a seed category becomes it."""
    meaning = mapping.meaning
    meaning_tags = set()
    for key in ("session_tags", "requested_tags", "one_on_one_tags", "general_tags"):
        meaning_tags |= {norm(t) for t in meaning[key]}
    value = ""
    for source in meaning["activity_from"]:
        if source == "tags":
            value = next((t for t in tags if norm(t) not in meaning_tags), "")
        else:
            value = sources.get(source, "")
        if value:
            break
    if not value:
        return ""
    for name, target in mapping.activity_map.items():
        if norm(name) == norm(value):
            return target
    seed = re.sub(r"[\s\-]+", "_", norm(value))
    return seed if seed in SEED_ACTIVITIES else value


def _bool_column(ctx: Context, name: str, errors: Errors) -> np.ndarray | None:
    """Yes/no per row (object array of True/False, None where unreadable), or None when the
    field has no column; an unreadable cell rejects its row in ``errors``."""
    if not ctx.has(name):
        return None
    codes, texts = codes_of(ctx.cell(name))
    values, reasons = parse_each(lambda t: parse_bool(t, ctx.mapping.yes, ctx.mapping.no), texts)
    errors.fail(np.not_equal(spread(reasons, codes), None), ctx.column_name(name), spread(reasons, codes))
    return spread(values, codes)
