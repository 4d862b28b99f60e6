"""The public subscription pages: sign up by email (double opt-in) or
webhook, confirm, manage, unsubscribe.

- `/subscribe` answers the same page whether the address was new, waiting
  for confirmation or already subscribed, so nobody learns who subscribes
  (MAIL-03); sign-ups are limited per client address and per address typed.
- A link in a mail only shows a button on GET; mail scanners follow links,
  so only a POST confirms or unsubscribes (MAIL-07).
- `POST /unsubscribe/<token>` is RFC 8058's one-click unsubscribe: mail
  providers post `List-Unsubscribe=One-Click` without any cookie, so that
  one view is exempt from CSRF; the signed token is its authority.
- None of these pages is render-cached (they are not on the `public`
  blueprint), and each says `no-store` and sends no referrer, since their
  addresses hold tokens.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from statuspage import audit
from statuspage.notify.email_content import lifetime_words
from statuspage.notify.tokens import LinkError, LinkExpired, LinkSigner, new_webhook_secret, seal
from statuspage.store.outbox import EventKind, enqueue
from statuspage.store.subscribers import (
    Subscriber,
    SubscriberKind,
    SubscriberRepository,
    SubscriberState,
)
from statuspage.web import deps
from statuspage.web.pageview import build_page
from statuspage.web.subscribe_forms import (
    SIGNUP,
    Choice,
    FormError,
    FormState,
    ip_actor,
    read_choice,
    read_email_address,
    read_webhook_url,
    signup_wait,
)

bp = Blueprint("subscribe", __name__)

SUBSCRIBER_ACTOR = "subscriber"  # who confirms, changes or cancels through a link
ONE_CLICK_BODY = "Unsubscribed.\n"


def install(app: Flask) -> None:
    """Register the pages; exempt the one-click unsubscribe from CSRF (it
    needs the app's CSRFProtect, so call this after `admin.install`)."""
    app.register_blueprint(bp)
    app.extensions["statuspage"]["csrf"].exempt(unsubscribe_now)


@bp.after_request
def private_page(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def subscribers() -> SubscriberRepository:
    return SubscriberRepository()


def signer() -> LinkSigner:
    return LinkSigner(str(current_app.config["SECRET_KEY"]))


def render(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    config = deps.config()
    page = build_page(config, deps.store(), deps.now())
    return render_template(
        template,
        page=page,
        email_enabled=config.notifications.email is not None,
        confirm_within=lifetime_words(config.notifications.signup.confirm_within),
        **context,
    ), status


def known_components() -> list[str]:
    return [c.id for c in deps.store().components()]


def client_ip() -> str:
    # Behind a reverse proxy, wrap the app in ProxyFix so this is the visitor's.
    return request.remote_addr or "unknown"


# --- sign-up -----------------------------------------------------------------------


@bp.get("/subscribe")
def form() -> ResponseReturnValue:
    return render("subscribe.html", email_form=FormState(), webhook_form=FormState())


@bp.post("/subscribe")
def signup() -> ResponseReturnValue:
    via = request.form.get("via", "email")
    if via == "webhook":
        return webhook_signup()
    if deps.config().notifications.email is None:
        return render(
            "subscribe.html",
            422,
            email_form=FormState(errors={"address": "Email notifications are not set up here."}),
            webhook_form=FormState(),
        )
    return email_signup()


def _read(fields: MultiDict[str, str], value_field: str) -> tuple[FormState, str | None]:
    state = FormState(address=fields.get("address", ""), url=fields.get("url", ""))
    value = None
    try:
        state.choice = read_choice(fields, fields.getlist("component"), known_components())
    except FormError as exc:
        state.choice = Choice(tuple(fields.getlist("component")), False)
        state.errors[exc.field] = exc.message
    try:
        raw = fields.get(value_field, "")
        value = read_email_address(raw) if value_field == "address" else read_webhook_url(raw)
    except FormError as exc:
        state.errors[exc.field] = exc.message
    return state, value


def _limited(wait: timedelta) -> ResponseReturnValue:
    minutes = max(1, int(wait.total_seconds() + 59) // 60)
    body, status = render("subscribe_limited.html", 429, minutes=minutes)
    return body, status, {"Retry-After": str(int(wait.total_seconds()) + 1)}


def email_signup() -> ResponseReturnValue:
    state, address = _read(request.form, "address")
    if state.errors or address is None:
        return render("subscribe.html", 422, email_form=state, webhook_form=FormState())
    config, store, now = deps.config(), deps.store(), deps.now()
    repo, ip = subscribers(), client_ip()
    with store.engine.connect() as conn:
        known = repo.find(conn, SubscriberKind.EMAIL, address)
    wait = signup_wait(store, config.notifications.signup, ip, known.id if known else None, now)
    if wait is not None:
        return _limited(wait)
    with store.transaction() as conn:
        signup = repo.subscribe_email(
            conn,
            address,
            component_ids=state.choice.component_ids,
            component_updates=state.choice.component_updates,
            now=now,
        )
        if signup.confirm:
            enqueue(conn, EventKind.SUBSCRIBER_CONFIRM, {}, now, subscriber_id=signup.subscriber_id)
        audit.record(
            conn,
            ip_actor(ip),
            SIGNUP,
            "subscriber",
            signup.subscriber_id,
            None,
            {"kind": "email", "confirmation_sent": signup.confirm},
            now,
        )
    # The same answer whatever the address was: new, waiting or subscribed.
    return render("subscribe_sent.html", address=address)


def webhook_signup() -> ResponseReturnValue:
    state, url = _read(request.form, "url")
    config, store, now = deps.config(), deps.store(), deps.now()
    if url is not None and not state.errors:
        try:
            from statuspage.notify.webhook import validate_webhook_url
        except ImportError:  # the webhook channel is not built into this version
            state.errors["url"] = "Webhooks are not available on this status page."
        else:
            reason = validate_webhook_url(url, config.notifications.webhooks)
            if reason is not None:
                state.errors["url"] = f"This URL cannot be used: {reason}."
    if state.errors or url is None:
        return render("subscribe.html", 422, email_form=FormState(), webhook_form=state)
    repo, ip = subscribers(), client_ip()
    with store.engine.connect() as conn:
        known = repo.find(conn, SubscriberKind.WEBHOOK, url)
    wait = signup_wait(store, config.notifications.signup, ip, known.id if known else None, now)
    if wait is not None:
        return _limited(wait)
    secret = new_webhook_secret()
    with store.transaction() as conn:
        subscriber_id = repo.add_webhook(
            conn,
            url,
            secret_encrypted=seal(secret, str(current_app.config["SECRET_KEY"])),
            component_ids=state.choice.component_ids,
            component_updates=state.choice.component_updates,
            now=now,
            created_by="public",
        )
        if subscriber_id is not None:
            audit.record(
                conn,
                ip_actor(ip),
                SIGNUP,
                "subscriber",
                subscriber_id,
                None,
                {"kind": "webhook"},
                now,
            )
    if subscriber_id is None:
        state.errors["url"] = (
            "This URL receives this page's webhooks already. To get a new secret or stop "
            "them, use the manage link shown when it was added, or ask the page's staff."
        )
        return render("subscribe.html", 422, email_form=FormState(), webhook_form=state)
    # Links built from site.url, never from the request's Host (MAIL-09).
    manage_url = f"{config.site.url}/subscriptions/{signer().manage_token(subscriber_id, 1)}"
    return render("subscribe_webhook.html", url=url, secret=secret, manage_url=manage_url)


# --- confirmation ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkProblem:
    """Why a link cannot be used: `expired`, `used`, `invalid`..."""

    problem: str
    status: int

    def page(self) -> tuple[str, int]:
        return render("subscribe_link.html", self.status, problem=self.problem)


def _pending(token: str) -> tuple[Subscriber, str] | LinkProblem:
    """The subscriber a confirmation link is for, and its nonce."""
    lifetime = deps.config().notifications.signup.confirm_within
    try:
        subscriber_id, nonce = signer().read_confirm_token(token, lifetime)
    except LinkExpired:
        return LinkProblem("expired", 410)
    except LinkError:
        return LinkProblem("invalid", 404)
    with deps.store().engine.connect() as conn:
        found = subscribers().get(conn, subscriber_id)
    if (
        found is None
        or found.state is not SubscriberState.PENDING
        or found.confirm_nonce is None
        or not hmac.compare_digest(found.confirm_nonce.encode(), nonce.encode())
    ):
        return LinkProblem("used", 410)
    return found, nonce


@bp.get("/subscribe/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    pending = _pending(token)
    if isinstance(pending, LinkProblem):
        return pending.page()
    return render("subscribe_confirm.html", subscriber=pending[0], token=token)


@bp.post("/subscribe/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    pending = _pending(token)
    if isinstance(pending, LinkProblem):
        return pending.page()
    found, nonce = pending
    now = deps.now()
    with deps.store().transaction() as conn:
        done = subscribers().confirm(conn, found.id, nonce, now)
        if done:
            audit.record(
                conn,
                SUBSCRIBER_ACTOR,
                "subscriber.confirm",
                "subscriber",
                found.id,
                {"state": found.state.value},
                {"state": SubscriberState.ACTIVE.value},
                now,
            )
    if not done:  # a second click that lost the race
        return LinkProblem("used", 410).page()
    manage = signer().manage_token(found.id, found.link_version)
    return render("subscribe_done.html", subscriber=found, manage_token=manage)


# --- manage and unsubscribe -------------------------------------------------------------


def _linked(token: str) -> tuple[Subscriber | None, int]:
    """The subscriber a manage or unsubscribe link names (None for a link
    that is not ours), and the link's version."""
    try:
        subscriber_id, version = signer().read_manage_token(token)
    except LinkError:
        return None, 0
    with deps.store().engine.connect() as conn:
        return subscribers().get(conn, subscriber_id), version


def _is_current(found: Subscriber, version: int) -> bool:
    return found.link_version == version and found.state is not SubscriberState.UNSUBSCRIBED


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    found, version = _linked(token)
    if found is None:
        return render("subscribe_link.html", 404, problem="invalid")
    if not _is_current(found, version):
        return render("subscribe_link.html", 410, problem="unsubscribed")
    return render("subscribe_unsubscribe.html", subscriber=found, token=token)


@bp.post("/unsubscribe/<token>")
def unsubscribe_now(token: str) -> ResponseReturnValue:
    """The button of the page above, and RFC 8058's one-click POST (no
    cookie, no CSRF token: exempt in `install`). Asking twice is fine."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    found, version = _linked(token)
    if found is None:
        if one_click:
            return Response("This link is not valid.\n", 404, mimetype="text/plain")
        return render("subscribe_link.html", 404, problem="invalid")
    now = deps.now()
    with deps.store().transaction() as conn:
        done = subscribers().unsubscribe(conn, found.id, version, now)
        if done:
            audit.record(
                conn,
                SUBSCRIBER_ACTOR,
                "subscriber.unsubscribe",
                "subscriber",
                found.id,
                {"state": found.state.value},
                {"state": SubscriberState.UNSUBSCRIBED.value, "one_click": one_click},
                now,
            )
    # Already unsubscribed (a repeated POST) counts as done; an old link of a
    # subscription made again later does not end the new one.
    if not done and found.state is not SubscriberState.UNSUBSCRIBED:
        if one_click:
            return Response("This link no longer works.\n", 410, mimetype="text/plain")
        return render("subscribe_link.html", 410, problem="unsubscribed")
    if one_click:
        return Response(ONE_CLICK_BODY, 200, mimetype="text/plain")
    return render("subscribe_unsubscribed.html", subscriber=found)


@bp.route("/subscriptions/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    found, version = _linked(token)
    if found is None:
        return render("subscribe_link.html", 404, problem="invalid")
    if not _is_current(found, version):
        return render("subscribe_link.html", 410, problem="unsubscribed")
    if found.state is SubscriberState.PENDING:  # signed up again after being disabled
        return render("subscribe_link.html", 200, problem="pending")
    if found.state is not SubscriberState.ACTIVE:
        return render("subscribe_link.html", 200, problem="stopped")
    state = FormState(
        choice=Choice(
            None if found.all_components else found.component_ids, found.component_updates
        )
    )
    saved = False
    if request.method == "POST":
        try:
            state.choice = read_choice(
                request.form, request.form.getlist("component"), known_components()
            )
        except FormError as exc:
            state.errors[exc.field] = exc.message
            return render(
                "subscribe_manage.html", 422, subscriber=found, token=token, form=state, saved=False
            )
        now = deps.now()
        with deps.store().transaction() as conn:
            subscribers().set_preferences(
                conn,
                found.id,
                component_ids=state.choice.component_ids,
                component_updates=state.choice.component_updates,
                now=now,
            )
            audit.record(
                conn,
                SUBSCRIBER_ACTOR,
                "subscriber.preferences",
                "subscriber",
                found.id,
                {"components": list(found.component_ids) or "all"},
                {"components": list(state.choice.component_ids or ()) or "all"},
                now,
            )
        saved = True
    return render("subscribe_manage.html", subscriber=found, token=token, form=state, saved=saved)
