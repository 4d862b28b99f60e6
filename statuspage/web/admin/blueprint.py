"""The admin blueprint and what holds for every page in it."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from statuspage.auth import can
from statuspage.web import deps
from statuspage.web.admin.session import ACCESS_ATTR, forbidden

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_an_access_rule() -> ResponseReturnValue | None:
    """Fail closed: a view added without `login_required(...)` or `public`
    answers 403 instead of being open to everyone."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, ACCESS_ATTR, None) is None:
        log.error("admin view %s has no access rule; refusing it", request.endpoint)
        return forbidden(None, None)
    return None


@bp.after_request
def private_pages(response: Response) -> Response:
    # Admin pages may show a password once: nothing may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_template_global("admin_can")
def admin_can(action: str) -> bool:
    """In admin templates: may the logged-in user do `action`?"""
    user = g.get("admin_user")
    return user is not None and can(user.role, action)


@bp.app_context_processor
def admin_context() -> dict[str, Any]:
    # App-wide, so a page guarded by `login_required` outside this blueprint
    # renders the admin layout too.
    return {"admin_user": g.get("admin_user"), "admin_site_title": deps.config().site.title}
