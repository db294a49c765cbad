"""db/keys.py and ``cms-pricing keys``: API keys stored as hashes, rotated, revoked, expired.

On SQLite and on PostgreSQL: what is stored (the hash, never the key), which hashes a server
accepts at a given moment (``active_hashes``), the validation of every input with the field
it names, and the command line's output (the key string is the last line) and exit codes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cms_pricing.cli import main
from cms_pricing.config import get_settings
from cms_pricing.db import keys
from cms_pricing.db.repository import create_db_engine
from cms_pricing.errors import BadRequest, Conflict, DatabaseUnavailable, NotFound
from cms_pricing.service.ratelimit import Rate
from servers import cli, free_port

KEY = re.compile(r"^cmsp_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _stored_row(engine: Engine, key_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(keys.KEYS).where(keys.KEYS.c.id == key_id)).mappings().one()
    return dict(row)


def test_create_stores_only_the_hash_and_reads_back_equal(engine: Engine) -> None:
    """The key string is cmsp_<id>_<secret>; the row holds its SHA-256 and nothing of the
    secret; get_key and list_keys give back the record create_key returned."""
    key, secret = keys.create_key(
        engine,
        "ci bot",
        ["read", "bulk"],
        quota={"read": " 600/min"},
        expires_at=T0 + timedelta(days=30),
        now=T0,
    )
    match = KEY.match(secret)
    assert match is not None and match[1] == key.id
    assert key == keys.ApiKey(
        key.id,
        "ci bot",
        frozenset({"bulk", "read"}),
        {"read": Rate(600, 60)},
        T0,
        T0 + timedelta(days=30),
        None,
    )
    row = _stored_row(engine, key.id)
    assert row["secret_hash"] == keys.hash_key(secret)
    assert (row["scopes"], row["quota"]) == ("bulk read", '{"read": "600/min"}')
    assert not any(secret.split("_", 2)[2] in str(value) for value in row.values())
    assert keys.get_key(engine, key.id) == key
    assert keys.list_keys(engine) == [key]


def test_active_hashes_hold_each_active_key_once(engine: Engine) -> None:
    """Every active key's hash maps to its record; a made-up key's hash is not there."""
    first, first_secret = keys.create_key(engine, "a", ["read"], now=T0)
    second, second_secret = keys.create_key(engine, "b", ["admin"], now=T0)
    hashes = keys.active_hashes(engine, T0)
    assert hashes == {keys.hash_key(first_secret): first, keys.hash_key(second_secret): second}
    assert keys.hash_key("cmsp_" + first.id + "_guess") not in hashes


def test_an_expired_key_is_not_active(engine: Engine) -> None:
    """A key past its expires_at is inactive, out of active_hashes and listed as expired."""
    key, secret = keys.create_key(engine, "a", ["read"], expires_at=T0 + timedelta(hours=1), now=T0)
    assert key.active(T0) and keys.hash_key(secret) in keys.active_hashes(engine, T0)
    later = T0 + timedelta(hours=1)
    assert not key.active(later) and key.state(later) == "expired"
    assert keys.active_hashes(engine, later) == {}


def test_rotation_keeps_the_id_and_the_old_secret_for_the_grace(engine: Engine) -> None:
    """Rotate with 30 minutes of grace: same id; both secrets work until then (the old one's
    entry expires at the grace's end), only the new one after."""
    key, old = keys.create_key(engine, "a", ["read"], now=T0)
    rotated, new = keys.rotate_key(engine, key.id, grace_minutes=30, now=T0)
    assert rotated.id == key.id and KEY.match(new) and new != old
    until = T0 + timedelta(minutes=30)
    during = keys.active_hashes(engine, T0 + timedelta(minutes=29))
    assert during[keys.hash_key(new)] == key
    assert during[keys.hash_key(old)].expires_at == until
    assert during[keys.hash_key(old)].active(until) is False
    assert set(keys.active_hashes(engine, until)) == {keys.hash_key(new)}


def test_rotation_without_grace_and_twice_within_it(engine: Engine) -> None:
    """Grace 0: the old secret stops at once. A second rotation inside a grace keeps only the
    newest old secret."""
    key, first = keys.create_key(engine, "a", ["read"], now=T0)
    _, second = keys.rotate_key(engine, key.id, now=T0)
    assert set(keys.active_hashes(engine, T0)) == {keys.hash_key(second)}
    _, third = keys.rotate_key(engine, key.id, grace_minutes=60, now=T0)
    _, fourth = keys.rotate_key(engine, key.id, grace_minutes=60, now=T0 + timedelta(minutes=1))
    assert set(keys.active_hashes(engine, T0 + timedelta(minutes=2))) == {
        keys.hash_key(third),
        keys.hash_key(fourth),
    }
    assert keys.hash_key(first) not in keys.active_hashes(engine, T0)


def test_a_grace_ends_with_the_key_expiry(engine: Engine) -> None:
    """An old secret's grace never outlives the key itself."""
    ends = T0 + timedelta(minutes=10)
    key, old = keys.create_key(engine, "a", ["read"], expires_at=ends, now=T0)
    keys.rotate_key(engine, key.id, grace_minutes=60, now=T0)
    assert keys.active_hashes(engine, T0)[keys.hash_key(old)].expires_at == ends


def test_revoke_is_final(engine: Engine) -> None:
    """A revoked key's secrets (the old one in grace too) stop; revoking again keeps the first
    time; a revoked or expired key cannot be rotated."""
    key, _ = keys.create_key(engine, "a", ["read"], now=T0)
    keys.rotate_key(engine, key.id, grace_minutes=60, now=T0)
    revoked = keys.revoke_key(engine, key.id, now=T0 + timedelta(minutes=1))
    assert revoked.revoked_at == T0 + timedelta(minutes=1) and revoked.state(T0) == "revoked"
    assert keys.active_hashes(engine, T0 + timedelta(minutes=2)) == {}
    assert keys.revoke_key(engine, key.id, now=T0 + timedelta(hours=1)) == revoked
    assert keys.get_key(engine, key.id) == revoked
    with pytest.raises(Conflict) as caught:
        keys.rotate_key(engine, key.id, now=T0)
    assert caught.value.message == f"key {key.id} is revoked: create a new one"
    expiring, _ = keys.create_key(engine, "b", ["read"], expires_at=T0 + timedelta(1), now=T0)
    with pytest.raises(Conflict):
        keys.rotate_key(engine, expiring.id, now=T0 + timedelta(2))


def test_keys_version_changes_with_every_write_only(engine: Engine) -> None:
    """keys_version moves on create, rotate and revoke, and stays put on reads."""
    seen = [keys.keys_version(engine)]
    key, _ = keys.create_key(engine, "a", ["read"], now=T0)
    seen.append(keys.keys_version(engine))
    keys.list_keys(engine)
    keys.active_hashes(engine, T0)
    assert keys.keys_version(engine) == seen[-1]
    keys.rotate_key(engine, key.id, now=T0 + timedelta(seconds=1))
    seen.append(keys.keys_version(engine))
    keys.revoke_key(engine, key.id, now=T0 + timedelta(seconds=2))
    seen.append(keys.keys_version(engine))
    assert len(set(seen)) == 4


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"scopes": []}, "scopes"),
    ({"scopes": ["read", "write"]}, "scopes"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 101}, "name"),
    ({"name": "a\nb"}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"quota": {"admin": "1/s"}}, "quota"),
    ({"quota": {"read": "600/week"}}, "quota.read"),
    ({"quota": {"bulk": "0/min"}}, "quota.bulk"),
    ({"expires_at": T0}, "expires_at"),
    ({"expires_at": T0 - timedelta(days=1)}, "expires_at"),
    ({"expires_at": datetime(2031, 1, 1)}, "expires_at"),  # naive: no zone
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATES)
def test_bad_input_is_a_bad_request_naming_the_field(
    engine: Engine, change: dict[str, Any], field: str
) -> None:
    """Unknown or no scope, a bad name, quota class or rate, an expiry not in the future:
    BadRequest with ``details.field``, and no key is written."""
    arguments: dict[str, Any] = {"name": "a", "scopes": ["read"], "now": T0} | change
    with pytest.raises(BadRequest) as caught:
        keys.create_key(engine, **arguments)
    assert caught.value.details == {"field": field}
    assert keys.list_keys(engine) == []


@pytest.mark.parametrize("grace", [-1, 10081])
def test_a_grace_out_of_range_is_a_bad_request(engine: Engine, grace: int) -> None:
    """Grace minutes must be 0 to one week; the key keeps its secret."""
    key, secret = keys.create_key(engine, "a", ["read"], now=T0)
    with pytest.raises(BadRequest) as caught:
        keys.rotate_key(engine, key.id, grace_minutes=grace, now=T0)
    assert caught.value.details == {"field": "grace_minutes"}
    assert set(keys.active_hashes(engine, T0)) == {keys.hash_key(secret)}


@pytest.mark.parametrize("key_id", ["0123456789ab", "nope", "", "x" * 200, "ab\x00"])
def test_an_unknown_id_is_not_found(engine: Engine, key_id: str) -> None:
    """get, rotate and revoke of an id no key has: NotFound on ``id``."""
    for call in (keys.get_key, keys.rotate_key, keys.revoke_key):
        with pytest.raises(NotFound) as caught:
            call(engine, key_id)
        assert caught.value.details == {"field": "id"}


def test_an_unreachable_database_is_database_unavailable() -> None:
    """Nothing listens on the port: every entry point raises DatabaseUnavailable."""
    engine = create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    calls = [
        lambda: keys.create_key(engine, "a", ["read"]),
        lambda: keys.list_keys(engine),
        lambda: keys.active_hashes(engine, T0),
        lambda: keys.keys_version(engine),
        lambda: keys.revoke_key(engine, "0123456789ab"),
    ]
    for call in calls:
        with pytest.raises(DatabaseUnavailable):
            call()
    engine.dispose()


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def key_cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """DATABASE_URL set for ``main([...])`` in a folder without a .env; yields an engine on
    the same database (after the first command migrated it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_cli_create_list_rotate_revoke(key_cli: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """create prints the id, then the key as the last line; list shows a table with no
    secret or hash; rotate prints the new key last and until when the old one works;
    revoke ends it; every key printed is the one the database accepts."""
    code, out, err = _run(
        capsys,
        "keys",
        "create",
        "ci bot",
        "--scope",
        "read",
        "--scope",
        "plans:write",
        "--quota",
        "read=600/min",
        "--expires",
        "2099-12-31",
    )
    assert (code, err) == (0, "")
    match = KEY.match(out[-1])
    assert match is not None
    key_id, first = match[1], out[-1]
    assert out[0] == (
        f"key {key_id} created for 'ci bot': scopes plans:write read, quota "
        "read=600/min, expires 2099-12-31 00:00:00 UTC"
    )
    assert keys.active_hashes(key_cli, datetime.now(UTC))[keys.hash_key(first)].id == key_id

    code, out, err = _run(capsys, "keys", "list")
    assert (code, err) == (0, "")
    assert out[0].split() == [
        "id",
        "name",
        "scopes",
        "quota",
        "created",
        "(UTC)",
        "expires",
        "(UTC)",
        "state",
    ]
    cells = out[1].split()
    assert cells[:6] == [key_id, "ci", "bot", "plans:write", "read", "read=600/min"]
    assert cells[-3:] == ["2099-12-31", "00:00:00", "active"]
    secret_hash = keys.hash_key(first)
    assert not any(first[18:] in line or secret_hash in line for line in out)

    code, out, err = _run(capsys, "keys", "rotate", key_id, "--grace", "15")
    assert (code, err) == (0, "")
    assert out[0].startswith(f"key {key_id} rotated: the old key works until ")
    second = out[-1]
    assert KEY.match(second) and second.startswith(f"cmsp_{key_id}_")
    assert {keys.hash_key(first), keys.hash_key(second)} <= set(
        keys.active_hashes(key_cli, datetime.now(UTC))
    )

    code, out, err = _run(capsys, "keys", "revoke", key_id)
    assert (code, err) == (0, "")
    assert out[0].startswith(f"key {key_id} ('ci bot') revoked at ")
    assert keys.active_hashes(key_cli, datetime.now(UTC)) == {}
    assert _run(capsys, "keys", "list")[1][1].split()[-1] == "revoked"


BAD_COMMANDS = [
    (["create", "a"], "scopes: give at least one of read, bulk, plans:write, admin"),
    (
        ["create", "a", "--scope", "write"],
        "scope 'write' is unknown: use read, bulk, plans:write, admin",
    ),
    (
        ["create", "a", "--scope", "read", "--quota", "read"],
        "--quota 'read' is not CLASS=RATE (e.g. read=600/min)",
    ),
    (
        ["create", "a", "--scope", "read", "--quota", "read=1/s", "--quota", "read=2/s"],
        "--quota gives class 'read' twice",
    ),
    (
        ["create", "a", "--scope", "read", "--quota", "admin=1/s"],
        "quota class 'admin' is unknown: use read, bulk, plans:write",
    ),
    (
        ["create", "a", "--scope", "read", "--quota", "read=fast"],
        "quota read: 'fast' is not a rate: write COUNT/UNIT with UNIT one of s, min, h, day "
        "(e.g. 600/min)",
    ),
    (
        ["create", "a", "--scope", "read", "--expires", "2020-01-01"],
        "expires_at 2020-01-01 00:00:00 UTC is not in the future",
    ),
    (
        ["create", "a", "--scope", "read", "--expires", "soon"],
        "--expires 'soon' is not a date (YYYY-MM-DD) or an ISO datetime",
    ),
    (["create", "", "--scope", "read"], "name must not be empty"),
    (["rotate", "0123456789ab"], "no API key '0123456789ab'"),
    (["revoke", "nope"], "no API key 'nope'"),
    (
        ["rotate", "0123456789ab", "--grace", "a while"],
        "--grace 'a while' is not a whole number of minutes",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_COMMANDS)
def test_cli_bad_input_exits_2_with_one_line(
    key_cli: Engine, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Bad input: exit 2, one ``invalid: ...`` line on stderr naming the problem, nothing
    on stdout, no key written."""
    assert _run(capsys, "keys", *args) == (2, [], f"invalid: {message}\n")
    assert keys.list_keys(key_cli) == []


def test_cli_grace_out_of_range_exits_2(
    key_cli: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--grace -5`` and ``--grace 20000`` are refused by the service's range check."""
    main(["keys", "create", "a", "--scope", "read"])
    key_id = KEY.match(capsys.readouterr().out.splitlines()[-1])[1]  # type: ignore[index]
    for grace in ("-5", "20000"):
        code, out, err = _run(capsys, "keys", "rotate", key_id, "--grace", grace)
        assert (code, out) == (2, [])
        assert err == f"invalid: grace_minutes must be 0 to 10080 (one week), not {grace}\n"


def test_cli_process_prints_the_key_last(db_url: str) -> None:
    """The installed ``cms-pricing`` process: exit 0, nothing on stderr, the key string is
    the last line of stdout."""
    env = {**os.environ, "DATABASE_URL": db_url}
    done = cli(env, "keys", "create", "deploy", "--scope", "admin")
    assert (done.returncode, done.stderr) == (0, "")
    assert KEY.match(done.stdout.splitlines()[-1]) and done.stdout.endswith("\n")
    assert cli(env, "keys", "list").stdout.splitlines()[1].split()[1:3] == ["deploy", "admin"]
