"""Component overrides (editors): every component with its status, the
status a person set by hand, and a Release button. A change re-settles the
component in the same transaction, so the public page shows it at once and
the checks cannot change it back until it is released (REL-08)."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import Connection
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from statuspage import audit
from statuspage.auth import Role
from statuspage.components import settle_component
from statuspage.domain import ComponentStatus
from statuspage.maintenance import maintenance_titles
from statuspage.store import Store
from statuspage.store.incident_rows import Override
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
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


def resettle(store: Store, conn: Connection, component_id: str, now: datetime) -> None:
    """Write the component's status from its checks, its override and any
    maintenance window covering it now (as the monitor does)."""
    override = IncidentRepository(store).overrides(conn).get(component_id)
    title = maintenance_titles(MaintenanceRepository(store).windows(conn), now).get(component_id)
    settle_component(
        store,
        conn,
        component_id,
        [(c.name, c.state) for c in store.checks(component_id, conn=conn)],
        now,
        deps.config().site.tz,
        override=(override.status, override.reason) if override else None,
        maintenance=title,
    )


def _shown(o: Override | None) -> dict[str, str] | None:
    if o is None:
        return None
    return {"status": o.status.value, "reason": o.reason, "set_by": o.set_by}


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
    repo = IncidentRepository(store)
    with store.transaction() as conn:
        before = repo.overrides(conn).get(component_id)
        repo.set_override(conn, component_id, status, set_by=who, now=now, reason=reason)
        after = repo.overrides(conn).get(component_id)
        audit.record(
            conn, who, "component.override", "component", component_id,
            _shown(before), _shown(after), now,
        )  # fmt: skip
        resettle(store, conn, component_id, now)
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
    repo = IncidentRepository(store)
    with store.transaction() as conn:
        before = repo.overrides(conn).get(component_id)
        if repo.release_override(conn, component_id):
            audit.record(
                conn, who, "component.release", "component", component_id,
                _shown(before), None, now,
            )  # fmt: skip
            resettle(store, conn, component_id, now)
            released = True
        else:
            released = False
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
