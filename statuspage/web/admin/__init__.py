"""The staff admin under /admin: login, users, the audit log, and the
foundation other admin pages build on.

A new page is a view on `bp` with an access rule:

    from statuspage.auth import Role
    from statuspage.web.admin import actor, bp, login_required

    @bp.route("/incidents/new", methods=["GET", "POST"])
    @login_required(Role.EDITOR)
    def incident_new() -> ResponseReturnValue:
        ...  # audit.record(conn, actor(), ...) for each change

A view without `login_required(...)` (or `public`) answers 403. Every POST
needs the form's CSRF token: `{{ form.hidden_tag() }}` or
`<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`.
Templates extend `admin/base.html` and fill `{% block content %}` (and
`{% block nav %}` for more links in the top bar); the dashboard has
`{% block dashboard %}` to extend.

There is no setup page: the first admin is made on the server with
`statuspage user add NAME --role admin`, so no web request can claim an
empty instance (SEC-03).
"""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from statuspage.web import api_components, api_v1
from statuspage.web.admin import (  # noqa: F401  (routes)
    auditlog,
    deploys,
    incidents,
    login,
    maintenance,
    overrides,
    session,
    subscribers,
    tokens,
    users,
)
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.session import (
    SecretKeyError,
    actor,
    current_user,
    login_required,
    public,
    secret_key_for,
)

__all__ = [
    "SecretKeyError",
    "actor",
    "bp",
    "current_user",
    "install",
    "login_required",
    "public",
    "secret_key_for",
]


def install(app: Flask) -> None:
    """Sessions, CSRF protection for every form of the app, and the admin
    blueprint. Refuses to start without a usable secret key."""
    objects = app.extensions["statuspage"]
    session.configure(app, objects["config"], objects["store"].url)
    csrf = CSRFProtect(app)
    # The write API authenticates each request with a bearer token; no
    # browser cookie is involved, so there is no cross-site request to forge.
    csrf.exempt(api_v1.bp)
    csrf.exempt(api_components.bp)
    app.extensions["statuspage"]["csrf"] = csrf
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_blueprint(bp)


def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return render_template(
        "error.html",
        code=400,
        title="The form could not be accepted",
        message=(
            "It was open for too long or sent from another page. "
            f"Go back, reload the page and send it again. ({error.description})"
        ),
    ), 400
