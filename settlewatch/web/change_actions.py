"""Decisions from the change page: approve, dismiss, correct then approve, defer.

The form carries the evidence fingerprint the officer was shown; review.decide refuses the
decision if the notice changed in the meantime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.review import decide
from settlewatch.review_correct import DATE_KEYS
from settlewatch.store.db import begin_write, utcnow
from settlewatch.web.auth import require
from settlewatch.web.format import zone
from settlewatch.web.state import state

bp = Blueprint("change_actions", __name__)


def parse_until(text: str) -> dt.datetime:
    """A deferral date (local, start of day) or date and time, as an aware UTC time."""
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        value = None
    if value is None:
        raise UsageError("defer: give the date to defer until (fix: YYYY-MM-DD)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone())
    return value.astimezone(dt.UTC)


def corrections_from_form(form: Mapping[str, Any], flows: list[str]) -> dict[str, Any]:
    """The correction a form asks for; fields left as they were are dropped by review."""
    out: dict[str, Any] = {}
    if form.get("category"):
        out["category"] = form["category"]
    if form.get("flows_submitted"):
        out["flows"] = [f for f in flows if f]
    dates = {k: form.get(f"date_{k}", "") for k in DATE_KEYS if f"date_{k}" in form}
    if dates:
        out["dates"] = dates
    if "action_text" in form:
        out["action_text"] = form["action_text"]
    return out


@bp.post("/findings/<int:finding_id>/decide")
@require("officer")
def decide_view(finding_id: int) -> ResponseReturnValue:
    st = state()
    form = request.form
    decision = form.get("decision", "")
    back = redirect(url_for("change.show", finding_id=finding_id))
    try:
        until = parse_until(form.get("until", "")) if decision == "defer" else None
        corrections = (
            corrections_from_form(form, form.getlist("flows")) if decision == "correct" else None
        )
        with begin_write(st.engine) as conn:
            result = decide(
                conn,
                finding_id,
                decision,
                g.user.name,
                utcnow(),
                form.get("reason", ""),
                corrections=corrections,
                until=until,
                seen=form.get("fingerprint") or None,
                taxonomy=st.taxonomy,
            )
    except UsageError as exc:
        flash(str(exc), "error")
        return back
    flash(result.message, "ok" if result.status != "pending" or decision == "defer" else "warn")
    if decision == "defer" or result.status != "pending":
        return redirect(url_for("queue.index"))
    return back
