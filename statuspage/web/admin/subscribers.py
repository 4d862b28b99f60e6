"""Subscribers and their deliveries. Viewers look; editors add and delete
webhooks, re-enable a subscriber that was disabled or quarantined, give a
webhook a new secret and send a delivery again. A webhook's secret is shown
once, in the answer to the POST that made it; only its sealed form is kept.
Every change is in the audit log (never the secret)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from statuspage import audit
from statuspage.auth import Role
from statuspage.notify.addresses import MAX_URL_CHARS, validate_webhook_url
from statuspage.notify.tokens import new_webhook_secret, seal
from statuspage.store.outbox import DeliveryState, OutboxRepository
from statuspage.store.subscribers import (
    Subscriber,
    SubscriberKind,
    SubscriberRepository,
    SubscriberState,
)
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ConfirmForm
from statuspage.web.admin.maintenance import CheckboxesField
from statuspage.web.admin.session import actor, login_required, safe_next

PAGE_SIZE = 100
# Staff may turn these back on; an unsubscribed person must subscribe again.
REENABLE_FROM = (SubscriberState.DISABLED, SubscriberState.QUARANTINED)
RETRYABLE = (DeliveryState.PENDING, DeliveryState.FAILED)

E = TypeVar("E", bound=StrEnum)


class WebhookForm(FlaskForm):
    url = StringField(
        "URL",
        description="http:// or https://, at a public address; statuspage posts a signed JSON payload.",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(message="Enter the URL to post to."),
            Length(max=MAX_URL_CHARS),
        ],
    )
    components = CheckboxesField("Components", description="None chosen: every component.")
    component_updates = BooleanField("Also every component status change")

    def validate_url(self, field: Field) -> None:
        reason = validate_webhook_url(field.data or "", deps.config().notifications.webhooks)
        if reason is not None:
            raise ValidationError(f"Refused: {reason}.")


def quarantined_webhooks() -> int:
    """For the dashboard's notice."""
    with deps.store().engine.connect() as conn:
        counts = SubscriberRepository().counts(conn)
    return counts.get((SubscriberKind.WEBHOOK.value, SubscriberState.QUARANTINED.value), 0)


# --- subscribers -------------------------------------------------------------------


@bp.get("/subscribers")
@login_required(Role.VIEWER)
def subscriber_list() -> ResponseReturnValue:
    return _list_page(_webhook_form(formdata=False))


@bp.post("/subscribers/webhooks")
@login_required(Role.EDITOR)
def webhook_create() -> ResponseReturnValue:
    form = _webhook_form()
    if not form.validate_on_submit():
        return _list_page(form)
    store, now, who = deps.store(), deps.now(), actor()
    url = form.url.data or ""
    chosen = list(form.components.data or []) or None
    secret = new_webhook_secret()
    repo = SubscriberRepository()
    with store.transaction() as conn:
        subscriber_id = repo.add_webhook(
            conn,
            url,
            secret_encrypted=seal(secret, _secret_key()),
            component_ids=chosen,
            component_updates=bool(form.component_updates.data),
            now=now,
            created_by=who,
        )
        if subscriber_id is not None:
            created = repo.get(conn, subscriber_id)
            assert created is not None
            audit.record(
                conn, who, "subscriber.create", "subscriber", subscriber_id, None,
                _shown(created), now,
            )  # fmt: skip
    if subscriber_id is None:
        form.url.errors = [*form.url.errors, "This URL is already a webhook subscriber."]
        return _list_page(form)
    return render_template(
        "admin/subscribers_secret.html", subscriber=created, secret=secret, rotated=False
    )


@bp.post("/subscribers/<subscriber_id>/enable")
@login_required(Role.EDITOR)
def subscriber_enable(subscriber_id: str) -> ResponseReturnValue:
    _confirmed()
    store, now, who = deps.store(), deps.now(), actor()
    repo = SubscriberRepository()
    with store.transaction() as conn:
        found = _subscriber(conn, repo, subscriber_id)
        if found.state not in REENABLE_FROM:
            flash(f"{found.address} is {found.state.value}; only a disabled or "
                  "quarantined subscriber can be re-enabled.", "error")  # fmt: skip
            return redirect(url_for("admin.subscriber_list"))
        repo.set_state(conn, subscriber_id, SubscriberState.ACTIVE, now)
        audit.record(
            conn, who, "subscriber.enable", "subscriber", subscriber_id,
            {"state": found.state.value, "consecutive_failures": found.consecutive_failures},
            {"state": SubscriberState.ACTIVE.value, "consecutive_failures": 0}, now,
        )  # fmt: skip
    flash(f"Re-enabled {found.address}: new notifications go to it again.", "ok")
    return redirect(url_for("admin.subscriber_list"))


@bp.post("/subscribers/<subscriber_id>/rotate")
@login_required(Role.EDITOR)
def webhook_rotate(subscriber_id: str) -> ResponseReturnValue:
    _confirmed()
    store, now, who = deps.store(), deps.now(), actor()
    repo = SubscriberRepository()
    secret = new_webhook_secret()
    with store.transaction() as conn:
        found = _subscriber(conn, repo, subscriber_id)
        if found.kind is not SubscriberKind.WEBHOOK:
            abort(404)
        repo.set_webhook_secret(conn, subscriber_id, seal(secret, _secret_key()), now)
        audit.record(
            conn, who, "subscriber.rotate_secret", "subscriber", subscriber_id,
            {"address": found.address}, {"address": found.address, "secret": "replaced"}, now,
        )  # fmt: skip
    return render_template(
        "admin/subscribers_secret.html", subscriber=found, secret=secret, rotated=True
    )


@bp.post("/subscribers/<subscriber_id>/delete")
@login_required(Role.EDITOR)
def subscriber_delete(subscriber_id: str) -> ResponseReturnValue:
    _confirmed()
    store, now, who = deps.store(), deps.now(), actor()
    repo = SubscriberRepository()
    with store.transaction() as conn:
        found = _subscriber(conn, repo, subscriber_id)
        repo.delete(conn, subscriber_id)
        audit.record(
            conn, who, "subscriber.delete", "subscriber", subscriber_id, _shown(found), None, now
        )
    flash(f"Deleted the {found.kind.value} subscriber {found.address} and its deliveries.", "ok")
    return redirect(url_for("admin.subscriber_list"))


# --- deliveries --------------------------------------------------------------------


@bp.get("/deliveries")
@login_required(Role.VIEWER)
def delivery_list() -> ResponseReturnValue:
    state = _choice("state", DeliveryState)
    subscriber_id = _one_arg("subscriber")
    page = _page_number()
    outbox = OutboxRepository()
    with deps.store().engine.connect() as conn:
        rows = outbox.deliveries(
            conn,
            state=state,
            subscriber_id=subscriber_id,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        depth = outbox.depth(conn)
        subscriber = SubscriberRepository().get(conn, subscriber_id) if subscriber_id else None
    return render_template(
        "admin/deliveries.html",
        deliveries=rows[:PAGE_SIZE],
        depth=depth,
        states=[s.value for s in DeliveryState],
        state=state.value if state else "",
        subscriber=subscriber,
        subscriber_id=subscriber_id or "",
        retryable={s.value for s in RETRYABLE},
        page=page,
        has_next=len(rows) > PAGE_SIZE,
    )


@bp.post("/deliveries/<int:delivery_id>/retry")
@login_required(Role.EDITOR)
def delivery_retry(delivery_id: int) -> ResponseReturnValue:
    _confirmed()
    store, now, who = deps.store(), deps.now(), actor()
    with store.transaction() as conn:
        done = OutboxRepository().retry_now(conn, delivery_id, now)
        if done:
            audit.record(
                conn, who, "delivery.retry", "delivery", delivery_id,
                None, {"state": DeliveryState.PENDING.value, "next_attempt_at": now}, now,
            )  # fmt: skip
    if done:
        flash(f"Delivery {delivery_id} will be sent again at once.", "ok")
    else:
        flash(f"Delivery {delivery_id} is not waiting or failed: nothing to retry.", "error")
    return redirect(safe_next(request.form.get("back"), url_for("admin.delivery_list")))


# --- helpers -----------------------------------------------------------------------


def _secret_key() -> str:
    # The key the worker unseals with (both come from `secret_key_for`).
    return str(current_app.config["SECRET_KEY"])


def _webhook_form(formdata: bool = True) -> WebhookForm:
    form = WebhookForm() if formdata else WebhookForm(formdata=None)
    form.components.choices = [SelectChoice(c.id, c.name) for c in deps.store().components()]
    return form


def _list_page(form: WebhookForm) -> str:
    kind = _choice("kind", SubscriberKind)
    state = _choice("state", SubscriberState)
    page = _page_number()
    repo = SubscriberRepository()
    with deps.store().engine.connect() as conn:
        rows = repo.listing(
            conn, kind=kind, state=state, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        counts = repo.counts(conn)
    return render_template(
        "admin/subscribers.html",
        subscribers=rows[:PAGE_SIZE],
        counts=counts,
        kinds=[k.value for k in SubscriberKind],
        states=[s.value for s in SubscriberState],
        kind=kind.value if kind else "",
        state=state.value if state else "",
        reenable_from={s.value for s in REENABLE_FROM},
        names={c.id: c.name for c in deps.store().components()},
        form=form,
        page=page,
        has_next=len(rows) > PAGE_SIZE,
    )


def _one_arg(name: str) -> str | None:
    """A query parameter given at most once (`?state[]=a&state[]=b`: 400)."""
    values = request.args.getlist(name)
    if len(values) > 1 or any(key.startswith(name + "[") for key in request.args):
        _bad_request(f"Give {name} once.")
    return values[0] if values and values[0] else None


def _choice(name: str, allowed: type[E]) -> E | None:
    value = _one_arg(name)
    if value is None:
        return None
    try:
        return allowed(value)
    except ValueError:
        options = ", ".join(member.value for member in allowed)
        _bad_request(f"{name} must be one of: {options}.")


def _page_number() -> int:
    value = _one_arg("page") or "1"
    if not value.isdigit() or int(value) < 1:
        _bad_request("page must be a whole number from 1.")
    return int(value)


def _bad_request(message: str) -> NoReturn:
    page = render_template(
        "error.html", code=400, title="This filter cannot be used", message=message
    )
    abort(current_app.response_class(page, status=400))


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _subscriber(conn: Any, repo: SubscriberRepository, subscriber_id: str) -> Subscriber:
    found = repo.get(conn, subscriber_id)
    if found is None:
        abort(404)
    return found


def _shown(s: Subscriber) -> dict[str, Any]:
    """What the audit log keeps of a subscriber (never its secret)."""
    return {
        "kind": s.kind.value,
        "address": s.address,
        "state": s.state.value,
        "components": "all" if s.all_components else list(s.component_ids),
        "component_updates": s.component_updates,
    }
