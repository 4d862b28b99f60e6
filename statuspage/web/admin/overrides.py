"""Component overrides (editors): every component with its status, the
status a person set by hand, and a Release button. A change re-settles the
component in the same transaction, so the public page shows it at once and
the checks cannot change it back until it is released (REL-08)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from statuspage.auth import Role
from statuspage.domain import ComponentStatus
from statuspage.overrides_service import release_status, set_status
from statuspage.store.incidents import IncidentRepository
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ConfirmForm
from statuspage.web.admin.session import actor, login_required

REASON_MAX_CHARS = 500
SETTABLE = [s for s in ComponentStatus if s is not ComponentStatus.UNKNOWN]


class OverrideForm(FlaskForm):
    status = SelectField(
        "Status",
        choices=[SelectChoice(s.value, s.label) for s in SETTABLE],
        default=ComponentStatus.MAJOR_OUTAGE.value,
    )
    reason = StringField(
        "Reason",
        description="Shown to staff; the checks are ignored until you release it.",
        validators=[DataRequired(message="Say why."), Length(max=REASON_MAX_CHARS)],
    )


@bp.get("/components")
@login_required(Role.VIEWER)
def component_list() -> ResponseReturnValue:
    return _page({})


@bp.post("/components/<component_id>/override")
@login_required(Role.EDITOR)
def component_override(component_id: str) -> ResponseReturnValue:
    store = deps.store()
    if store.component(component_id) is None:
        abort(404)
    form = OverrideForm(prefix=component_id)
    if not form.validate_on_submit():
        return _page({component_id: form})
    status = ComponentStatus(form.status.data)
    reason = (form.reason.data or "").strip()
    now, who = deps.now(), actor()
    with store.transaction() as conn:
        set_status(
            store, conn, component_id, status,
            reason=reason, set_by=who, actor=who, now=now, tz=deps.config().site.tz,
        )  # fmt: skip
    flash(f"{component_id} is set to {status.label} until released.", "ok")
    return redirect(url_for("admin.component_list"))


@bp.post("/components/<component_id>/release")
@login_required(Role.EDITOR)
def component_release(component_id: str) -> ResponseReturnValue:
    store = deps.store()
    if store.component(component_id) is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    now, who = deps.now(), actor()
    with store.transaction() as conn:
        released = release_status(
            store, conn, component_id, actor=who, now=now, tz=deps.config().site.tz
        )
    if released:
        flash(f"{component_id} follows its checks again.", "ok")
    else:
        flash(f"{component_id} had no status set by hand.", "error")
    return redirect(url_for("admin.component_list"))


def _page(forms: dict[str, OverrideForm]) -> str:
    store = deps.store()
    components = store.components()
    for c in components:
        if c.id not in forms:
            forms[c.id] = OverrideForm(formdata=None, prefix=c.id)
    return render_template(
        "admin/components.html",
        components=components,
        overrides=IncidentRepository(store).overrides(),
        forms=forms,
    )
