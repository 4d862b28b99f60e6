"""The audit log, for admins: newest first, a page at a time."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from statuspage import audit
from statuspage.auth import Role
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.session import login_required

PAGE_SIZE = 50


@bp.get("/audit")
@login_required(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    # One more than a page: whether there is a next page, without a count.
    entries = audit.recent(deps.store(), limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "admin/audit.html",
        entries=entries[:PAGE_SIZE],
        page=page,
        has_next=len(entries) > PAGE_SIZE,
    )
