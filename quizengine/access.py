"""Who may call a view. Every view declares a policy; the access-matrix test enforces that.

Anonymous callers are sent to the login page (HTML) or get 401 (JSON under /api/);
signed-in callers with the wrong role get 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from flask import redirect, request, url_for
from flask_login import current_user

from quizengine.errors import Forbidden, Unauthorized
from quizengine.models import Role

Policy = Literal["public", "user", "contestant", "judge", "organiser"]
F = TypeVar("F", bound=Callable[..., Any])

# Pages a user who must change a temporary password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"accounts.change_password", "accounts.logout", "i18n.switch"}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _guard(policy: Policy) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if policy != "public":
                if not current_user.is_authenticated:
                    if is_api_request():
                        raise Unauthorized()
                    return redirect(url_for("accounts.login", next=request.full_path))
                if (
                    getattr(current_user, "must_change_password", False)
                    and request.endpoint not in _PASSWORD_CHANGE_ALLOWED
                    and not is_api_request()
                ):
                    return redirect(url_for("accounts.change_password"))
                if policy != "user" and not current_user.has_role(Role(policy)):
                    raise Forbidden()
            return view(*args, **kwargs)

        wrapper.access_policy = policy  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


public = _guard("public")
signed_in = _guard("user")
contestant_only = _guard("contestant")
judge_only = _guard("judge")
organiser_only = _guard("organiser")
