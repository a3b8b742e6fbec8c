"""Who may do what. Every action is checked here, in core, whatever the page shows or hides."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.platform.db import execute, fetch_df

ROLES = ("exec", "analyst", "manager", "admin")
ROLE_LABELS = {"exec": "Executive", "analyst": "Analyst", "manager": "Marketing manager", "admin": "Admin"}

# action -> roles allowed
PERMISSIONS = {
    "view": {"exec", "analyst", "manager", "admin"},
    "export": {"analyst", "manager", "admin"},
    "create_test": {"manager", "admin"},
    "control_test": {"manager", "admin"},           # stop, pause, resume, declare a winner
    "apply_recommendation": {"manager", "admin"},
    "dismiss_recommendation": {"manager", "admin"},
    "manage_roles": {"admin"},
    "see_personal_data": {"admin"},
    "run_jobs": {"admin"},
}


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


def can(user: User | None, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"Unknown action {action!r}")
    return user is not None and user.role in PERMISSIONS[action]


def require(user: User | None, action: str) -> User:
    if not can(user, action):
        who = f"{user.email} ({ROLE_LABELS[user.role]})" if user else "Nobody signed in"
        allowed = ", ".join(ROLE_LABELS[r] for r in ROLES if r in PERMISSIONS[action])
        raise PermissionDenied(f"{who} may not {action.replace('_', ' ')}; ask an admin — allowed: {allowed}.")
    return user


def role_for(db: Engine, email: str, default: str = "exec") -> str:
    """The role an admin granted to this person; people nobody mapped get read-only `default`."""
    found = fetch_df(db, "user_role", email=email.lower())
    return str(found.role.iloc[0]) if len(found) else default


def list_roles(db: Engine):
    return fetch_df(db, "user_roles_list")


def grant_role(db: Engine, actor: User, email: str, role: str) -> None:
    from core.access.audit import record

    require(actor, "manage_roles")
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an e-mail address.")
    with db.begin() as conn:
        execute(conn, "user_role_upsert", email=email, role=role, granted_by=actor.email)
        record(conn, actor, "grant_role", f"user:{email}", {"role": role})
