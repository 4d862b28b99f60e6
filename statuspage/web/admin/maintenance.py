"""Scheduled maintenance (editors change, viewers read): upcoming, active
and recent windows, a form to schedule one in local time, and cancelling.
A window that covers its components now re-settles them at once."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from statuspage.auth import Role
from statuspage.localtime import local_time_text
from statuspage.maintenance_desk import MaintenanceDesk, NewMaintenance
from statuspage.maintenance_form import TITLE_MAX_CHARS, validate_window
from statuspage.store import Store
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ConfirmForm
from statuspage.web.admin.session import actor, login_required

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
BODY_MAX_CHARS = 20_000
# validate_window's field names -> this form's.
FIELD_NAMES = {"recurrence_until": "until"}


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MaintenanceForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="Enter a title.")])
    body = TextAreaField("What happens", description="Markdown. Empty: the times are said.")
    components = CheckboxesField(
        "Components", validators=[DataRequired(message="Choose at least one component.")]
    )
    starts_at = DateTimeLocalField(
        "Starts", format=LOCAL_FORMAT, validators=[DataRequired(message="Enter a start.")]
    )
    ends_at = DateTimeLocalField(
        "Ends", format=LOCAL_FORMAT, validators=[DataRequired(message="Enter an end.")]
    )
    timezone = SelectField("Time zone", description="The times above are local times here.")
    recurrence = SelectField(
        "Repeats",
        choices=[
            SelectChoice("", "Does not repeat"),
            SelectChoice("daily", "Daily"),
            SelectChoice("weekly", "Weekly"),
        ],
    )
    until = DateTimeLocalField(
        "Repeats until",
        format=LOCAL_FORMAT,
        validators=[Optional()],
        description="Empty: repeats until cancelled.",
    )


def _new_form(store: Store, formdata: bool = True) -> MaintenanceForm:
    kwargs = {} if formdata else {"formdata": None}
    form = MaintenanceForm(timezone=deps.config().site.timezone, **kwargs)
    form.components.choices = [SelectChoice(c.id, c.name) for c in store.components()]
    form.timezone.choices = [SelectChoice(z, z) for z in zone_names()]
    return form


@bp.get("/maintenance")
@login_required(Role.VIEWER)
def maintenance_list() -> ResponseReturnValue:
    return _page(_new_form(deps.store(), formdata=False))


@bp.post("/maintenance")
@login_required(Role.EDITOR)
def maintenance_create() -> ResponseReturnValue:
    store = deps.store()
    form = _new_form(store)
    if not form.validate_on_submit():
        return _page(form)
    assert form.starts_at.data is not None and form.ends_at.data is not None
    checked = validate_window(
        form.title.data or "",
        form.starts_at.data,
        form.ends_at.data,
        form.timezone.data or "",
        form.recurrence.data or None,
        form.until.data,
    )
    if len(form.body.data or "") > BODY_MAX_CHARS:
        form.body.errors = [f"Keep it under {BODY_MAX_CHARS} characters."]
        return _page(form)
    if not checked.ok:
        for error in checked.errors:
            field = form[FIELD_NAMES.get(error.field, error.field)]
            field.errors = [*field.errors, error.message]
        return _page(form)
    assert checked.starts_at and checked.ends_at and checked.timezone
    desk = MaintenanceDesk(store, deps.config().site.tz, actor(), deps.now())
    new = NewMaintenance(
        title=form.title.data or "",
        body=form.body.data or "",
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        timezone=checked.timezone,
        components=form.components.data or [],
        recurrence=checked.recurrence,
        recurrence_until=checked.recurrence_until,
    )
    with store.transaction() as conn:
        created = desk.schedule(conn, new)
    for notice in checked.notices:
        flash(notice.message, "info")
    flash(f"Scheduled {created.title}.", "ok")
    return redirect(url_for("admin.maintenance_list"))


@bp.post("/maintenance/<maintenance_id>/cancel")
@login_required(Role.EDITOR)
def maintenance_cancel(maintenance_id: str) -> ResponseReturnValue:
    store = deps.store()
    repo = MaintenanceRepository(store)
    found = repo.get(maintenance_id)
    if found is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    desk = MaintenanceDesk(store, deps.config().site.tz, actor(), deps.now())
    with store.transaction() as conn:
        cancelled = desk.cancel(conn, found)
    if cancelled:
        flash(f"Cancelled {found.title}.", "ok")
    else:
        flash(f"{found.title} was already over or cancelled.", "error")
    return redirect(url_for("admin.maintenance_list"))


def _page(form: MaintenanceForm) -> str:
    store = deps.store()
    repo = MaintenanceRepository(store)
    now = deps.now()
    return render_template(
        "admin/maintenance.html",
        form=form,
        upcoming=repo.upcoming(now),
        active=repo.active(now),
        recent=repo.recent(now),
        names={c.id: c.name for c in store.components()},
        title_max=TITLE_MAX_CHARS,
        local_time_text=local_time_text,
        confirm_form=ConfirmForm(formdata=None),
    )
