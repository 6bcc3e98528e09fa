"""Account forms. Their field names are a contract (other clients and tests post them).

The fields carry no validators of their own: every rule lives in ``accounts.validation``
and is applied by the services, so the form, the CLI and imports refuse the same things
with the same words. The forms give CSRF protection, escaping and re-filled values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.fields.core import Field


class AccountForm(FlaskForm):
    def show_errors(self, errors: Mapping[str, Any]) -> None:
        """Put each service message next to its field (or above the form if none fits)."""
        for name, message in errors.items():
            field: Field | None = getattr(self, name, None)
            if isinstance(field, Field):
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)

    def fail(self, message: Any) -> None:
        self.form_errors.append(message)


class LoginForm(AccountForm):
    phone = StringField()
    password = PasswordField()
    remember = BooleanField()


class RegisterForm(AccountForm):
    full_name = StringField()
    phone = StringField()
    password = PasswordField()
    confirm = PasswordField()
    unit = StringField()  # a unit code; the template renders it as a grouped <select>
    birth_year = StringField()
    national_id = StringField()


class ChangePasswordForm(AccountForm):
    current_password = PasswordField()
    password = PasswordField()
    confirm = PasswordField()


class UnitForm(AccountForm):
    code = StringField()
    name = StringField()
    short_name = StringField()
    parent = StringField()  # a unit id, or empty for a root
    members = StringField()


class ActionForm(AccountForm):
    """A button that changes something: only the CSRF token."""
