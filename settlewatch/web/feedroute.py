"""GET /feed.atom?token=…[&flow=…][&acquirer=…][&lang=zh|en]: the Atom feed of approved findings.

Feed readers cannot log in, so the route is open and the user's API token in the query string
is the credential (settlewatch.feed checks it; a bad, revoked or disabled user's token gets
401). The feed's id never contains the token.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from settlewatch.feed import feed_for_token
from settlewatch.store.db import utcnow
from settlewatch.web.state import state

bp = Blueprint("feed", __name__)


@bp.get("/feed.atom")
def atom() -> ResponseReturnValue:
    st = state()
    flow = request.args.get("flow") or None
    flows = sorted(f.id for f in st.taxonomy.flows)
    if flow is not None and flow not in flows:
        known = ", ".join(flows)
        return Response(f"unknown flow {flow!r}; one of: {known}\n", 400, mimetype="text/plain")
    language = "zh" if request.args.get("lang") == "zh" else "en"
    with st.engine.connect() as conn:
        data = feed_for_token(
            conn,
            request.args.get("token", ""),
            st.taxonomy,
            self_url=request.url,
            flow=flow,
            acquirer=request.args.get("acquirer") or None,
            language=language,
            now=utcnow(),
        )
    if data is None:
        return Response("invalid or revoked token (?token=…)\n", 401, mimetype="text/plain")
    return Response(data, mimetype="application/atom+xml")
