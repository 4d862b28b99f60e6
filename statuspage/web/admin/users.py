"""Managing users (admins only): list, add, change role, disable or enable,
reset a password. A generated password is shown once, in the answer to the
POST that made it, and never stored anywhere but as a hash."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from statuspage.auth import Role, generate_password, hash_password
from statuspage.store.users import User, UsernameTaken
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.forms import ConfirmForm, NewUserForm, ResetPasswordForm, RoleForm
from statuspage.web.admin.session import (
    actor,
    current_user,
    keep_session_after_own_change,
    login_required,
    users,
)

LAST_ADMIN = "{name} is the last enabled admin; make another user admin first."


@bp.get("/users")
@login_required(Role.ADMIN)
def user_list() -> ResponseReturnValue:
    return render_template("admin/users.html", users=users().all())


@bp.route("/users/new", methods=["GET", "POST"])
@login_required(Role.ADMIN)
def user_new() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        generated = not form.password.data
        password = form.password.data or generate_password()
        try:
            user = users().create(
                username,
                Role(form.role.data),
                hash_password(password),
                actor=actor(),
                at=deps.now(),
            )
        except UsernameTaken:
            form.username.errors = [f"A user named {username} exists already."]
        else:
            if generated:
                return _show_password_once(user, password, "created")
            flash(f"Created {user.role} {user.username}.", "ok")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.get("/users/<int:user_id>")
@login_required(Role.ADMIN)
def user_detail(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    return _detail_page(user, role_form=RoleForm(formdata=None, role=user.role.value))


@bp.post("/users/<int:user_id>/role")
@login_required(Role.ADMIN)
def user_role(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _detail_page(user, role_form=form)
    role = Role(form.role.data)
    if role is user.role:
        return redirect(url_for("admin.user_detail", user_id=user.id))
    if _is_last_admin(user):
        form.role.errors = [LAST_ADMIN.format(name=user.username)]
        return _detail_page(user, role_form=form)
    users().set_role(user.id, role, actor=actor(), at=deps.now())
    flash(f"{user.username} is now {role}.", "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@login_required(Role.ADMIN)
def user_disable(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit() and not user.disabled:
        if _is_last_admin(user):
            flash(LAST_ADMIN.format(name=user.username), "error")
        else:
            users().set_disabled(user.id, True, actor=actor(), at=deps.now())
            flash(f"Disabled {user.username}: their sessions and API tokens stopped working.", "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/enable")
@login_required(Role.ADMIN)
def user_enable(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit() and user.disabled:
        users().set_disabled(user.id, False, actor=actor(), at=deps.now())
        flash(f"Enabled {user.username}.", "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@login_required(Role.ADMIN)
def user_password(user_id: int) -> ResponseReturnValue:
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    form.username_for_rules = user.username
    if not form.validate_on_submit():
        return _detail_page(user, password_form=form)
    generated = not form.password.data
    password = form.password.data or generate_password()
    changed = users().set_password(user.id, hash_password(password), actor=actor(), at=deps.now())
    if changed.id == current_user().id:
        # An admin resetting their own password keeps this session.
        keep_session_after_own_change(changed)
    if generated:
        return _show_password_once(changed, password, "reset")
    flash(f"Set a new password for {user.username}; their other sessions were logged out.", "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id))


def _user_or_404(user_id: int) -> User:
    user = users().get(user_id)
    if user is None:
        abort(404)
    return user


def _is_last_admin(user: User) -> bool:
    return user.role is Role.ADMIN and not user.disabled and users().count_active_admins() <= 1


def _detail_page(
    user: User, role_form: RoleForm | None = None, password_form: ResetPasswordForm | None = None
) -> ResponseReturnValue:
    return render_template(
        "admin/user.html",
        user=user,
        tokens=users().tokens(user.id),
        role_form=role_form or RoleForm(formdata=None, role=user.role.value),
        password_form=password_form or ResetPasswordForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    )


def _show_password_once(user: User, password: str, what: str) -> ResponseReturnValue:
    return render_template("admin/password_once.html", user=user, password=password, what=what)
