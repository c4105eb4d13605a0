"""The change page: the evidence behind one Finding, and the decision form."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.review_correct import DATE_KEYS
from settlewatch.web.change_data import load_change
from settlewatch.web.dashboard import return_stale
from settlewatch.web.state import state

bp = Blueprint("change", __name__)


@bp.get("/findings/<int:finding_id>")
def show(finding_id: int) -> ResponseReturnValue:
    st = state()
    return_stale()
    with st.engine.connect() as conn:
        try:
            ctx = load_change(conn, finding_id, st.taxonomy)
        except UsageError:
            abort(404, f"There is no finding {finding_id}.")
    view = request.args.get("view", "side")
    return render_template(
        "change.html",
        c=ctx,
        view=view if view in ("side", "inline") else "side",
        categories=st.taxonomy.categories,
        flows=st.taxonomy.flows,
        date_keys=DATE_KEYS,
    )
