"""Admin forms. Mistakes come back as field errors with what was typed kept
(passwords excepted: they are never written back into a page)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from statuspage.auth import MAX_PASSWORD_CHARS, Role, normalize_username, password_problem
from statuspage.auth import username_problem as _username_problem

ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer: sees the admin, changes nothing"),
    SelectChoice(Role.EDITOR.value, "Editor: incidents, maintenance, component overrides"),
    SelectChoice(Role.ADMIN.value, "Admin: everything, including users and settings"),
]


def _normalized(value: Any) -> Any:
    return normalize_username(value) if isinstance(value, str) else value


def valid_username(form: FlaskForm, field: Field) -> None:
    problem = _username_problem(field.data or "")
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".")


def acceptable_password(username_field: str | None = None) -> Any:
    """A validator: the password rules of `statuspage.auth`. The username it
    must differ from is the form's `username_field`, or the form attribute
    `username_for_rules` that a view sets (a password for an existing user)."""

    def check(form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        if username_field:
            username = form[username_field].data
        else:
            username = getattr(form, "username_for_rules", "")
        problem = password_problem(field.data, username or "")
        if problem:
            raise ValidationError(f"The password {problem}.")

    return check


class LoginForm(FlaskForm):
    username = StringField(
        "Username", filters=[_normalized], validators=[DataRequired(), Length(max=64)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_CHARS)]
    )


class NewUserForm(FlaskForm):
    username = StringField(
        "Username", filters=[_normalized], validators=[DataRequired(), valid_username]
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)
    password = PasswordField(
        "Password",
        description="Leave empty to generate one; it is shown once.",
        validators=[Optional(), acceptable_password("username")],
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="Leave empty to generate one; it is shown once.",
        validators=[Optional(), acceptable_password()],
    )


class ChangeOwnPasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_CHARS)]
    )
    new_password = PasswordField("New password", validators=[DataRequired(), acceptable_password()])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token (disable, enable, log out)."""
