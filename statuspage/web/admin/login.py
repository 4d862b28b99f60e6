"""Logging in and out, the dashboard, and a person's own password."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from statuspage.auth import Role, hash_password, verify_password
from statuspage.web import deps
from statuspage.web.admin import ratelimit
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ChangeOwnPasswordForm, LoginForm
from statuspage.web.admin.session import (
    current_user,
    end_session,
    keep_session_after_own_change,
    login_required,
    public,
    safe_next,
    session_user,
    start_session,
    users,
)

# The same words for an unknown user and a wrong password: no oracle.
WRONG_CREDENTIALS = "Wrong username or password."
DISABLED = "This account is disabled. Ask an admin to enable it."


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    now = deps.now()
    target = safe_next(request.args.get("next"))
    if request.method == "GET" and session_user(now)[0] is not None:
        return redirect(target)
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form)
    username = form.username.data or ""
    password = form.password.data or ""
    ip = request.remote_addr or "unknown"
    store = deps.store()
    wait = ratelimit.wait_before_login(store, ip, username, now)
    if wait is not None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        message = (
            f"Too many failed log-in attempts. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}."
        )
        return _login_page(
            form, message, 429, {"Retry-After": str(math.ceil(wait.total_seconds()))}
        )
    found = users().credentials(username)
    check = verify_password(found[1] if found else None, password)
    if found is None or not check.ok:
        reason = "unknown user" if found is None else "wrong password"
        ratelimit.record_failure(store, ip, username, reason, now)
        return _login_page(form, WRONG_CREDENTIALS)
    user = found[0]
    if user.disabled:
        return _login_page(form, DISABLED, 403)
    user = users().record_login(user.id, at=now, ip=ip, new_hash=check.new_hash)
    start_session(user, now)
    return redirect(target)


def _login_page(
    form: LoginForm,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    no_users = request.method == "GET" and users().count() == 0
    html = render_template("admin/login.html", form=form, error=error, no_users=no_users)
    return html, status, headers or {}


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    """POST only, with a CSRF token: a link or an image cannot log someone out."""
    end_session()
    flash("You have logged out.", "info")
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required(Role.VIEWER)
def dashboard() -> ResponseReturnValue:
    from statuspage.web.admin.deploys import dashboard_facts
    from statuspage.web.admin.subscribers import quarantined_webhooks

    return render_template(
        "admin/dashboard.html", **dashboard_facts(), quarantined_webhooks=quarantined_webhooks()
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required(Role.VIEWER)
def account() -> ResponseReturnValue:
    """Change one's own password; every other session of this person ends."""
    user = current_user()
    form = ChangeOwnPasswordForm()
    form.username_for_rules = user.username
    if form.validate_on_submit():
        found = users().credentials(user.username)
        if found is None or not verify_password(found[1], form.current_password.data or "").ok:
            form.current_password.errors = ["This is not your current password."]
        else:
            changed = users().set_password(
                user.id,
                hash_password(form.new_password.data or ""),
                actor=user.actor,
                at=deps.now(),
            )
            keep_session_after_own_change(changed)
            flash("Your password was changed. Your other sessions have been logged out.", "ok")
            return redirect(url_for("admin.account"))
    return render_template("admin/account.html", form=form)
