"""API tokens (admins only): list, create (the token is shown once, in the
answer to the POST that made it; only its hash is stored), revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from statuspage.auth import Role, at_least, hash_api_token, new_api_token
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ROLE_CHOICES, ConfirmForm
from statuspage.web.admin.session import actor, current_user, login_required, users

TOKEN_NAME_MAX_CHARS = 100  # the column's length


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name",
        description="Who uses it, e.g. ci or alertmanager; the audit log names it token:NAME.",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(message="Name the token."), Length(max=TOKEN_NAME_MAX_CHARS)],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)

    def validate_role(self, field: StringField) -> None:
        if not at_least(current_user().role, field.data or Role.ADMIN):
            raise ValidationError("A token cannot have more rights than you.")


@bp.get("/tokens")
@login_required(Role.ADMIN)
def token_list() -> ResponseReturnValue:
    return _page(NewTokenForm(formdata=None))


@bp.post("/tokens")
@login_required(Role.ADMIN)
def token_create() -> ResponseReturnValue:
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _page(form)
    token = new_api_token()
    created = users().create_token(
        form.name.data or "",
        Role(form.role.data),
        hash_api_token(token),
        current_user().id,
        actor=actor(),
        at=deps.now(),
    )
    return render_template("admin/token_once.html", created=created, token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required(Role.ADMIN)
def token_revoke(token_id: int) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        revoked = users().revoke_token(token_id, actor=actor(), at=deps.now())
    except LookupError:
        abort(404)
    flash(f"Revoked the token {revoked.name}.", "ok")
    return redirect(url_for("admin.token_list"))


def _page(form: NewTokenForm) -> str:
    return render_template("admin/tokens.html", tokens=users().tokens(), form=form)
