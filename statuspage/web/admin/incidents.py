"""Staff incident pages: the list (drafts to publish, open, recently
resolved), opening an incident, and one incident with its timeline, where
staff post updates, resolve, edit, publish and write the postmortem.

Every change goes through `IncidentDesk`: component statuses set here are
overrides that win over the checks until the incident is resolved, and each
change writes its audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from statuspage.auth import Role
from statuspage.domain import IncidentImpact, IncidentStatus
from statuspage.incident_desk import IncidentDesk, NewIncident, NewUpdate, deploys_near
from statuspage.store.incidents import IncidentRepository, IncidentRow
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ConfirmForm
from statuspage.web.admin.incident_forms import (
    EditForm,
    NewIncidentForm,
    PostmortemForm,
    ResolveForm,
    UpdateForm,
    with_components,
)
from statuspage.web.admin.session import actor, login_required

RECENT_RESOLVED = 20


def _repo() -> IncidentRepository:
    return IncidentRepository(deps.store())


def _desk() -> IncidentDesk:
    return IncidentDesk(deps.store(), deps.config().site.tz, actor(), deps.now())


def _components() -> list[tuple[str, str]]:
    return [(c.id, c.name) for c in deps.config().components]


def _timed(form: Any) -> Any:
    form.site_tz = deps.config().site.tz
    form.now = deps.now()
    return form


def _incident_or_404(incident_id: str) -> IncidentRow:
    incident = _repo().get(incident_id)
    if incident is None:
        abort(404)
    return incident


@bp.get("/incidents")
@login_required(Role.VIEWER)
def incident_list() -> ResponseReturnValue:
    repo = _repo()
    recent = repo.recent(limit=RECENT_RESOLVED + 50)
    return render_template(
        "admin/incidents.html",
        drafts=repo.drafts(),
        open_incidents=repo.unresolved(),
        resolved=[i for i in recent if i.resolved][:RECENT_RESOLVED],
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required(Role.EDITOR)
def incident_new() -> ResponseReturnValue:
    policy = deps.config().incidents
    form_class = with_components(NewIncidentForm, _components(), "Not affected")
    template_error = None
    prefill: dict[str, Any] = {}
    chosen = request.args.get("template", "")
    if request.method == "GET" and chosen:
        template = policy.template(chosen)
        if template is None:
            template_error = f"There is no template named {chosen}."
        else:
            prefill = {
                "title": template.title,
                "status": template.status.value,
                "impact": template.impact.value,
                "body": template.body,
            }
    form = _timed(form_class(**prefill))
    if form.validate_on_submit():
        new = NewIncident(
            name=form.title.data.strip(),
            status=IncidentStatus(form.status.data),
            impact=IncidentImpact(form.impact.data),
            components=form.component_statuses(),
            body=form.body.data,
            display_at=form.display_instant(),
            notify=bool(form.notify.data),
        )
        with deps.store().transaction() as conn:
            incident_id = _desk().open(conn, new)
        flash(f"Opened and published “{new.name}”.", "ok")
        return redirect(url_for("admin.incident_detail", incident_id=incident_id))
    return render_template(
        "admin/incident_new.html",
        form=form,
        templates=policy.templates,
        chosen_template=chosen,
        template_error=template_error,
    )


@bp.get("/incidents/<incident_id>")
@login_required(Role.VIEWER)
def incident_detail(incident_id: str) -> ResponseReturnValue:
    return _detail_page(_incident_or_404(incident_id))


@bp.post("/incidents/<incident_id>/updates")
@login_required(Role.EDITOR)
def incident_update(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    form = _timed(_update_form_class(incident)())
    if not form.validate_on_submit():
        return _detail_page(incident, update_form=form), 422
    new = NewUpdate(
        status=IncidentStatus(form.status.data),
        body=form.body.data,
        components=form.component_statuses(),
        display_at=form.display_instant(),
        notify=bool(form.notify.data),
    )
    with deps.store().transaction() as conn:
        _desk().post_update(conn, incident, new)
    flash(f"Posted the {new.status.value} update.", "ok")
    return _back(incident)


@bp.post("/incidents/<incident_id>/resolve")
@login_required(Role.EDITOR)
def incident_resolve(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _detail_page(incident, resolve_form=form), 422
    if incident.resolved:
        flash("The incident was resolved already.", "info")
        return _back(incident)
    with deps.store().transaction() as conn:
        _desk().resolve(conn, incident, form.body.data, bool(form.notify.data))
    flash("Resolved; its components follow their checks again.", "ok")
    return _back(incident)


@bp.post("/incidents/<incident_id>/edit")
@login_required(Role.EDITOR)
def incident_edit(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    form = EditForm()
    if not form.validate_on_submit():
        return _detail_page(incident, edit_form=form), 422
    with deps.store().transaction() as conn:
        changed = _desk().edit(
            conn, incident, form.title.data.strip(), IncidentImpact(form.impact.data)
        )
    if changed:
        flash("Saved the title and impact.", "ok")
    return _back(incident)


@bp.post("/incidents/<incident_id>/publish")
@login_required(Role.EDITOR)
def incident_publish(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    if ConfirmForm().validate_on_submit():
        with deps.store().transaction() as conn:
            published = _desk().publish(conn, incident)
        if published:
            flash(f"Published “{incident.name}”.", "ok")
        else:
            flash(f"“{incident.name}” was published already.", "info")
    if request.form.get("back") == "list":
        return redirect(url_for("admin.incident_list"))
    return _back(incident)


@bp.post("/incidents/<incident_id>/postmortem")
@login_required(Role.EDITOR)
def incident_postmortem(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    form = PostmortemForm()
    if not incident.resolved:
        form.body.errors = ["Resolve the incident before writing its postmortem."]
        return _detail_page(incident, postmortem_form=form), 409
    if not form.validate_on_submit():
        return _detail_page(incident, postmortem_form=form), 422
    with deps.store().transaction() as conn:
        _desk().set_postmortem(conn, incident, form.body.data, bool(form.publish.data))
    flash("Published the postmortem." if form.publish.data else "Saved the postmortem.", "ok")
    return _back(incident)


# --- helpers ------------------------------------------------------------------


def _back(incident: IncidentRow) -> ResponseReturnValue:
    return redirect(url_for("admin.incident_detail", incident_id=incident.id))


def _update_form_class(incident: IncidentRow) -> Any:
    return with_components(UpdateForm, _components(), "No change", dict(incident.components))


def _detail_page(
    incident: IncidentRow,
    update_form: Any = None,
    resolve_form: ResolveForm | None = None,
    edit_form: EditForm | None = None,
    postmortem_form: PostmortemForm | None = None,
) -> str:
    repo = _repo()
    detail = repo.detail(incident.id)
    names = dict(_components())
    if update_form is None:
        update_form = _timed(
            _update_form_class(incident)(formdata=None, status=incident.status.value)
        )
    return render_template(
        "admin/incident.html",
        incident=incident,
        updates=detail.updates if detail else [],
        names=names,
        deploys=deploys_near(repo, incident, names),
        update_form=update_form,
        resolve_form=resolve_form or ResolveForm(formdata=None),
        edit_form=edit_form
        or EditForm(formdata=None, title=incident.name, impact=incident.impact.value),
        postmortem_form=postmortem_form
        or PostmortemForm(
            formdata=None,
            body=incident.postmortem_body or "",
            publish=True,
        ),
        confirm_form=ConfirmForm(formdata=None),
    )
