"""The change page: the evidence behind one Finding, and the decision form."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from settlewatch.errors import UsageError
from settlewatch.review_correct import DATE_KEYS
from settlewatch.web.change_data import ChangeContext, load_change
from settlewatch.web.dashboard import return_stale
from settlewatch.web.state import state

bp = Blueprint("change", __name__)


def change_or_404(finding_id: int, missing: str) -> ChangeContext:
    """The Finding with everything shown about it; 404 with ``missing`` when there is none."""
    st = state()
    return_stale()
    with st.engine.connect() as conn:
        try:
            return load_change(conn, finding_id, st.taxonomy)
        except UsageError:
            abort(404, missing)


@bp.get("/findings/<int:finding_id>")
def show(finding_id: int) -> ResponseReturnValue:
    ctx = change_or_404(finding_id, f"There is no finding {finding_id}.")
    view = request.args.get("view", "side")
    taxonomy = state().taxonomy
    return render_template(
        "change.html",
        c=ctx,
        view=view if view in ("side", "inline") else "side",
        categories=taxonomy.categories,
        flows=taxonomy.flows,
        date_keys=DATE_KEYS,
    )
