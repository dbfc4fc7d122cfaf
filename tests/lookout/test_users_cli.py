"""Users and roles: dispatch.users on a real users.json, ``lookout users``, lookout.access, and flight refusals."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from dispatch.errors import AuthError, PermissionDenied, UserError
from dispatch.roles import Actor, Role
from dispatch.users import UserDirectory, check_password, hash_password
from lookout.access import authorize, resolve_actor
from lookout.audit import AuditLog, verify
from lookout.cli import main
from lookout.config import parse_config
from lookout.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LOOKOUT_PASSWORD", "LOOKOUT_NEW_PASSWORD", "LOOKOUT_USER", "LOOKOUT_CONFIG"):
        monkeypatch.delenv(var, raising=False)


# ---- dispatch.users ---------------------------------------------------------------------------------------
def test_add_list_remove_authenticate(tmp_path: Path) -> None:
    d = UserDirectory(tmp_path / "users.json")
    assert d.is_empty() and d.list() == []
    d.add("ana", Role.ADMIN, "correct horse")
    d.add("olaf", "operator", "battery staple")
    assert [(u.name, u.role) for u in d.list()] == [("ana", Role.ADMIN), ("olaf", Role.OPERATOR)]
    assert d.authenticate("olaf", "battery staple") == Actor("olaf", Role.OPERATOR)
    raw = (tmp_path / "users.json").read_text()
    assert "correct horse" not in raw and "battery staple" not in raw and "scrypt$" in raw
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temp file left behind
    d.remove("olaf")
    assert [u.name for u in d.list()] == ["ana"]


@pytest.mark.parametrize(("name", "password"), [("olaf", "wrong one!"), ("nobody", "battery staple")])
def test_wrong_password_or_unknown_user_is_the_same_one_line(tmp_path: Path, name: str, password: str) -> None:
    d = UserDirectory(tmp_path / "users.json")
    d.add("ana", Role.ADMIN, "correct horse")
    d.add("olaf", Role.OPERATOR, "battery staple")
    with pytest.raises(AuthError, match=rf"^user {name}: unknown user or wrong password \(.*users.json\); nothing"):
        d.authenticate(name, password)


@pytest.mark.parametrize(
    ("setup", "call", "message"),
    [
        ([], ("add", "olaf", "operator", "battery staple"), "the first user must be an admin"),
        ([("ana", "admin")], ("add", "ana", "admin", "another pw"), "user ana already exists"),
        ([("ana", "admin")], ("add", "bad name", "operator", "battery staple"), "user name 'bad name'"),
        ([("ana", "admin")], ("add", "olaf", "boss", "battery staple"), "role 'boss': must be one of"),
        ([("ana", "admin")], ("add", "olaf", "operator", "short"), "at least 8 characters"),
        ([("ana", "admin"), ("olaf", "operator")], ("remove", "ana"), "ana is the last admin"),
        ([("ana", "admin")], ("remove", "ghost"), "no user ghost"),
    ],
)
def test_bad_user_changes_are_refused_and_change_nothing(
    tmp_path: Path, setup: list[tuple[str, str]], call: tuple[str, ...], message: str
) -> None:
    d = UserDirectory(tmp_path / "users.json")
    for name, role in setup:
        d.add(name, role, "a good password")
    before = d.path.read_bytes() if d.path.exists() else None
    with pytest.raises(UserError, match=message):
        getattr(d, call[0])(*call[1:])
    assert (d.path.read_bytes() if d.path.exists() else None) == before


def test_a_damaged_users_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text('{"version": 1, "users": {"x": {"role": "king", "hash": "h"}}}')
    with pytest.raises(UserError, match="not a Lookout user directory"):
        UserDirectory(tmp_path / "users.json").is_empty()


def test_password_hash_is_salted_and_checked() -> None:
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b and check_password("same password", a) and check_password("same password", b)
    assert not check_password("same passwore", a) and not check_password("x", "garbage")


# ---- lookout.access ---------------------------------------------------------------------------------------
def test_resolve_actor_local_admin_then_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_actor(tmp_path, None).role == Role.ADMIN  # no users: local admin, no password
    with pytest.raises(AuthError, match="no users are set up"):
        resolve_actor(tmp_path, "ana")
    UserDirectory(tmp_path / "users.json").add("ana", Role.ADMIN, "correct horse")
    with pytest.raises(AuthError, match="say who you are with --user NAME"):
        resolve_actor(tmp_path, None)
    assert resolve_actor(tmp_path, "ana", lambda _: "correct horse") == Actor("ana", Role.ADMIN)
    monkeypatch.setenv("LOOKOUT_PASSWORD", "correct horse")
    monkeypatch.setenv("LOOKOUT_USER", "ana")
    assert resolve_actor(tmp_path, None) == Actor("ana", Role.ADMIN)
    monkeypatch.delenv("LOOKOUT_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    with pytest.raises(AuthError, match="password for ana: set LOOKOUT_PASSWORD or run in a terminal"):
        resolve_actor(tmp_path, "ana")


def test_authorize_audits_a_refusal(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as audit:
        authorize(Actor("pia", Role.PILOT), "flight.arm", audit.append, "vehicle 1")  # allowed: nothing written
        with pytest.raises(PermissionDenied, match=r"olaf \(operator\) may not flight\.arm on vehicle 1"):
            authorize(Actor("olaf", Role.OPERATOR), "flight.arm", audit.append, "vehicle 1")
        [e] = audit.entries()
        assert (e.actor, e.action, e.subject, e.detail) == (
            "olaf", "denied", "vehicle 1", {"requested": "flight.arm", "role": "operator"}
        )  # fmt: skip


# ---- lookout users ----------------------------------------------------------------------------------------
def test_users_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"

    def lookout(*argv: str) -> int:
        return main(["--data-dir", str(data), "users", *argv])

    assert lookout("list") == 0
    assert "everyone acts as the local admin" in capsys.readouterr().out
    monkeypatch.setenv("LOOKOUT_PASSWORD", "admin-secret")
    assert lookout("add", "ana", "--role", "admin") == 0
    monkeypatch.setenv("LOOKOUT_NEW_PASSWORD", "olaf-secret")
    assert lookout("add", "olaf", "--role", "operator") == 1  # users exist: an admin must act
    assert "say who you are with --user NAME" in capsys.readouterr().err
    assert lookout("add", "olaf", "--role", "operator", "--user", "ana") == 0
    assert lookout("--user", "ana", "list") == 0
    out = capsys.readouterr().out
    assert "ana " in out and "olaf" in out and "admin-secret" not in out
    monkeypatch.setenv("LOOKOUT_PASSWORD", "olaf-secret")
    assert lookout("remove", "ana", "--user", "olaf") == 1
    assert "olaf (operator) may not users.manage" in capsys.readouterr().err
    monkeypatch.setenv("LOOKOUT_PASSWORD", "admin-secret")
    assert lookout("remove", "olaf", "--user", "ana") == 0
    assert json.loads((data / "users.json").read_text())["users"].keys() == {"ana"}
    monkeypatch.delenv("LOOKOUT_NEW_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    assert lookout("add", "carl", "--role", "pilot", "--user", "ana") == 1
    assert "new password for carl: set LOOKOUT_NEW_PASSWORD" in capsys.readouterr().err
    with AuditLog(data / "audit.sqlite") as audit:
        acts = [(e.actor, e.action, e.subject) for e in audit.entries()]
    assert ("ana", "users.add", "user olaf") in acts and ("ana", "users.remove", "user olaf") in acts
    assert ("olaf", "denied", "users remove") in acts
    assert verify(data / "audit.sqlite").ok


# ---- flight commands refuse what the role may not do -----------------------------------------------------
def test_lookout_fly_refuses_an_operator_before_any_link_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    users = UserDirectory(data / "users.json")
    users.add("ana", Role.ADMIN, "admin-secret")
    users.add("olaf", Role.OPERATOR, "olaf-secret")
    monkeypatch.setenv("LOOKOUT_PASSWORD", "olaf-secret")
    # nothing listens on this port: a refusal must come before the link is even tried
    argv = ["--data-dir", str(data), "fly", "--connect", "udpout:127.0.0.1:9", "--wait", "0.5", "--user", "olaf", "arm"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "olaf (operator) may not flight.arm on fly arm via udpout:127.0.0.1:9" in err
    monkeypatch.setenv("LOOKOUT_PASSWORD", "wrong-secret")
    assert main(argv) == 1
    assert "unknown user or wrong password" in capsys.readouterr().err
    with AuditLog(data / "audit.sqlite") as audit:
        assert [(e.actor, e.action) for e in audit.entries()] == [("olaf", "denied"), ("olaf", "login.failed")]


def test_fleet_actions_refuse_and_audit_a_role_without_flight_rights(tmp_path: Path) -> None:
    from flight import Fleet
    from flight.errors import NoVehicle
    from lookout.wiring import FleetActions, FleetView

    with AuditLog(tmp_path / "audit.sqlite") as audit:
        actions = FleetActions(FleetView(Fleet()), audit.append, actor=Actor("dirk", Role.DISPATCHER))
        with pytest.raises(PermissionDenied, match=r"dirk \(dispatcher\) may not flight\.takeoff on vehicle 3"):
            actions.takeoff(3, 20.0)
        actions.set_actor(Actor("pia", Role.PILOT))
        with pytest.raises(NoVehicle):  # allowed: the command is tried (no vehicle here) and audited as usual
            actions.rtl(3)
        assert [(e.actor, e.action) for e in audit.entries()] == [("dirk", "denied"), ("pia", "flight.rtl")]


def test_a_leftover_users_table_in_the_config_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config('[map]\n\n[users.ana]\nrole = "admin"\n', "site.toml")
    assert str(err.value).startswith("site.toml:3 users: users are no longer configured here; they live in "
                                     "<data dir>/users.json")  # fmt: skip
