"""Roles are enforced in core; personal data is masked for everyone but admins."""
import pandas as pd
import pytest

from core.access.auth import PERMISSIONS, ROLES, PermissionDenied, User, can, require
from core.access.pii import mask_email, mask_frame, mask_name, mask_phone

PEOPLE = {role: User(f"{role}@example.com", role.title(), role) for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
def test_role_permissions(role):
    user = PEOPLE[role]
    assert can(user, "view")
    assert can(user, "control_test") == (role in ("manager", "admin"))
    assert can(user, "see_personal_data") == (role == "admin")
    assert can(user, "export") == (role != "exec")


def test_require_refuses_with_a_message_that_says_who_may():
    with pytest.raises(PermissionDenied, match="may not control test.*Marketing manager"):
        require(PEOPLE["analyst"], "control_test")
    assert require(PEOPLE["manager"], "control_test") is PEOPLE["manager"]
    with pytest.raises(PermissionDenied):
        require(None, "view")


def test_unknown_roles_and_actions_are_errors():
    with pytest.raises(ValueError):
        User("x@example.com", "X", "superuser")
    with pytest.raises(KeyError):
        can(PEOPLE["admin"], "launch_rockets")
    assert set(PERMISSIONS["manage_roles"]) == {"admin"}


def test_masks_hide_the_identifying_part():
    assert mask_email("ava.garcia12@example.com") == "a•••@example.com"
    assert mask_phone("+1-555-123-4567") == "•••-•••-67"
    assert mask_name("Ava Garcia") == "A. G."


@pytest.mark.parametrize("role", ROLES)
def test_mask_frame_for_every_role(role):
    frame = pd.DataFrame({"member_id": [1], "full_name": ["Ava Garcia"], "email": ["ava@example.com"],
                          "phone": ["+1-555-123-4567"]})
    shown = mask_frame(frame, PEOPLE[role])
    text = shown.to_csv(index=False)
    if role == "admin":
        assert "ava@example.com" in text and "Ava Garcia" in text
    else:
        assert "ava@example.com" not in text and "Garcia" not in text and "123-4567" not in text
    assert frame.email.iloc[0] == "ava@example.com"  # the input is not modified
