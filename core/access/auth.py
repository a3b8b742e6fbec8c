"""Who may do what. Every action is checked here, in core, whatever the page shows or hides.

A person's action is a core function decorated with `@action(permission)`: the decorator checks
the acting user before the function runs (PermissionDenied for a missing user or a role without
the permission) and marks the function, so a test can list every action core offers. The worker
and the command line act as `SYSTEM`, an identity no screen ever gets: "no user" is never
mistaken for the system.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

from sqlalchemy import Engine

from core.platform import ingest
from core.platform.db import execute, fetch_df

ROLES = ("exec", "analyst", "manager", "admin")
ROLE_LABELS = {"exec": "Executive", "analyst": "Analyst", "manager": "Marketing manager", "admin": "Admin"}
SYSTEM_ROLE = "system"

# action -> roles allowed
PERMISSIONS = {
    "view": {"exec", "analyst", "manager", "admin"},
    "export": {"analyst", "manager", "admin"},
    "export_overview": {"exec", "analyst", "manager", "admin"},  # the Overview's totals (core.access.exports)
    "annotate": {"analyst", "manager", "admin"},    # notes on the charts (core.analytics.annotations)
    "create_test": {"manager", "admin"},
    "control_test": {"manager", "admin"},           # stop, pause, resume, declare a winner
    "apply_recommendation": {"manager", "admin"},
    "dismiss_recommendation": {"manager", "admin"},
    "manage_roles": {"admin"},
    "see_personal_data": {"admin"},
    "run_jobs": {"admin"},                          # e.g. retrain now: minutes of the shared CPU
    "import_events": {"admin"},                     # an events file changes every campaign's numbers
}
# The worker and the operator's command line run with the database's own credentials, so a
# narrower in-app right would protect nothing; they may do everything but what is a person's
# reading (exports are audited to a person; the system never looks at personal data).
SYSTEM_PERMISSIONS = set(PERMISSIONS) - {"export", "export_overview", "see_personal_data"}


class PermissionDenied(PermissionError):
    pass


@dataclass(frozen=True)
class User:
    email: str
    name: str
    role: str

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}; roles are {', '.join(ROLES)}.")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class _SystemIdentity(User):
    """The one identity with the system role; `User(..., role="system")` is refused."""

    def __post_init__(self):
        pass

    def __reduce__(self):  # copies and pickles stay the one SYSTEM (anything else is refused)
        return "SYSTEM"


SYSTEM = _SystemIdentity("system@swipesavvy.internal", "SwipeSavvy system (worker, command line)", SYSTEM_ROLE)


def can(user: User | None, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"Unknown action {action!r}")
    if user is SYSTEM:
        return action in SYSTEM_PERMISSIONS
    return isinstance(user, User) and user.role in PERMISSIONS[action]


def _who(user) -> str:
    if user is None:
        return "Nobody signed in"
    if user is SYSTEM:
        return "The system"
    if not isinstance(user, User):
        return f"{type(user).__name__} (not a signed-in person)"
    return f"{user.email} ({ROLE_LABELS[user.role]})"


def require(user: User | None, action: str) -> User:
    if not can(user, action):
        allowed = ", ".join(ROLE_LABELS[r] for r in ROLES if r in PERMISSIONS[action])
        raise PermissionDenied(f"{_who(user)} may not {action.replace('_', ' ')}; ask an admin — allowed: {allowed}.")
    return user


def action(permission: str, user_parameter: str = "user"):
    """Make the decorated function a checked action: its `user_parameter` argument must hold
    `permission` before anything else runs. The function keeps its signature and gains
    `.permission` and `.user_parameter` (read by tests that list every action)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown action {permission!r}")

    def decorate(function):
        signature = inspect.signature(function)
        if user_parameter not in signature.parameters:
            raise TypeError(f"{function.__qualname__} has no parameter {user_parameter!r} to check")
        default = signature.parameters[user_parameter].default

        @functools.wraps(function)
        def checked(*args, **kwargs):
            given = signature.bind_partial(*args, **kwargs).arguments  # a malformed call fails here, as it would anyway
            user = given.get(user_parameter, None if default is inspect.Parameter.empty else default)
            require(user, permission)
            return function(*args, **kwargs)

        checked.permission = permission
        checked.user_parameter = user_parameter
        return checked

    return decorate


def role_for(db: Engine, email: str, default: str = "exec") -> str:
    """The role an admin granted to this person; people nobody mapped get read-only `default`."""
    found = fetch_df(db, "user_role", email=email.lower())
    return str(found.role.iloc[0]) if len(found) else default


def list_roles(db: Engine):
    return fetch_df(db, "user_roles_list")


@action("manage_roles", user_parameter="actor")
def grant_role(db: Engine, actor: User, email: str, role: str) -> None:
    from core.access.audit import record

    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an e-mail address.")
    with db.begin() as conn:
        execute(conn, "user_role_upsert", email=email, role=role, granted_by=actor.email)
        record(conn, actor, "grant_role", f"user:{email}", {"role": role})


# The platform may not import this module (it is the bottom layer), so its events import gets
# the check from here: nobody, a forged identity or a role without "import_events" is refused.
ingest.authorize_with(require)
