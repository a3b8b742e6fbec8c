"""Roles are enforced in core; personal data is masked for everyone but admins."""
import pandas as pd
import pytest

import copy
import pickle

from core.access.auth import PERMISSIONS, ROLES, SYSTEM, PermissionDenied, User, action, can, require
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


def test_the_system_identity_cannot_be_forged_and_is_not_a_person():
    with pytest.raises(ValueError):
        User("system@swipesavvy.internal", "system", "system")
    assert SYSTEM.role not in ROLES
    assert copy.deepcopy(SYSTEM) is SYSTEM and pickle.loads(pickle.dumps(SYSTEM)) is SYSTEM
    assert can(SYSTEM, "run_jobs") and can(SYSTEM, "manage_roles") and can(SYSTEM, "create_test")
    assert not can(SYSTEM, "export") and not can(SYSTEM, "see_personal_data")
    with pytest.raises(PermissionDenied, match="The system may not export"):
        require(SYSTEM, "export")


@pytest.mark.parametrize("who", [None, "admin@example.com", {"email": "a@example.com", "role": "admin"}])
def test_anything_but_a_user_is_refused(who):
    assert not can(who, "view")
    with pytest.raises(PermissionDenied):
        require(who, "view")


def test_action_checks_the_user_before_the_body_runs():
    ran = []

    @action("control_test")
    def stop(db, user, test_id, note=""):
        ran.append(test_id)
        return test_id

    assert stop.permission == "control_test" and stop.user_parameter == "user"
    assert stop(None, PEOPLE["manager"], 1) == 1 and stop(None, user=PEOPLE["admin"], test_id=2) == 2
    for refused in (dict(user=None), dict(user=PEOPLE["analyst"]), dict()):
        with pytest.raises(PermissionDenied):
            stop(None, test_id=3, **refused)
    assert ran == [1, 2]

    @action("manage_roles", user_parameter="actor")
    def grant(db, email, actor=None):
        ran.append(email)

    with pytest.raises(PermissionDenied):
        grant(None, "x@example.com")  # the default None is nobody
    grant(None, "y@example.com", actor=PEOPLE["admin"])
    assert ran[-1] == "y@example.com"


def test_action_needs_a_known_permission_and_a_user_parameter():
    with pytest.raises(KeyError):
        action("launch_rockets")
    with pytest.raises(TypeError, match="no parameter 'user'"):
        action("export")(lambda db, frame: frame)
