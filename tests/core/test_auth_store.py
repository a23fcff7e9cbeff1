"""Users, tokens, permissions and the audit trail in the store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest
from runyard import TrackingClient
from runyard.access import TokenNotFound, User, UserExists
from runyard.exceptions import InvalidInput
from runyard.store import auth


def test_users_tokens_permissions_and_audit(client: TrackingClient) -> None:
    store = client.store
    store.db.create_if_missing()
    assert auth.count_users(store) == 0
    alice = auth.add_user(store, "alice", "hash-1")
    auth.add_user(store, "root", "hash-2", is_admin=True)
    with pytest.raises(UserExists):
        auth.add_user(store, "alice", "x")
    with pytest.raises(InvalidInput, match="username"):
        auth.add_user(store, "a:b", "x")
    assert [u.username for u in auth.list_users(store)] == ["alice", "root"]

    auth.set_password_hash(store, "alice", "hash-3")
    credential = auth.get_credential(store, "alice")
    assert credential is not None and credential.password_hash == "hash-3"
    assert credential.user.version == alice.version + 1  # cached logins end
    assert auth.get_credential(store, "nobody") is None

    listing, value = auth.create_token(store, "alice", "ci")
    assert len(value) > 40 and value not in repr(auth.list_tokens(store))
    assert auth.user_of_token(store, value) == auth.get_user(store, "alice")
    assert auth.user_of_token(store, value + "x") is None
    expired, old = auth.create_token(store, "alice", expires_ms=-1)
    assert auth.user_of_token(store, old) is None
    auth.revoke_token(store, listing.id)
    assert auth.user_of_token(store, value) is None
    with pytest.raises(TokenNotFound):
        auth.revoke_token(store, listing.id)

    first = client.create_experiment("first")
    second = client.create_experiment("second")
    user = auth.get_user(store, "alice")
    assert auth.effective_permission(store, user, first) == "READ"  # MLflow's default
    auth.set_permission(store, first, "alice", "manage")
    auth.set_permission(store, second, "alice", "NO_PERMISSIONS")
    assert auth.effective_permission(store, user, first) == "MANAGE"
    readable = auth.readable_experiment_ids(store, user)
    assert readable is not None and first in readable and second not in readable
    auth.set_default_permission(store, "NO_PERMISSIONS")
    auth.revoke_permission(store, second, "alice")
    assert auth.readable_experiment_ids(store, user) == {first}
    assert auth.readable_experiment_ids(store, auth.get_user(store, "root")) is None
    with pytest.raises(InvalidInput, match="READ, EDIT, MANAGE"):
        auth.set_permission(store, first, "alice", "OWNER")

    actions = [entry.action for entry in auth.audit_entries(store)]
    assert actions[0] == "permission.revoke" and "user.create" in actions and "token.revoke" in actions
    assert all("hash" not in entry.detail for entry in auth.audit_entries(store))


def test_purge_and_removing_a_user_drop_their_permission_rows(client: TrackingClient) -> None:
    store = client.store
    store.db.create_if_missing()
    auth.add_user(store, "bob", "h")
    auth.add_user(store, "carol", "h")
    gone = client.create_experiment("gone")
    kept = client.create_experiment("kept")
    auth.set_permission(store, gone, "bob", "EDIT")
    auth.set_permission(store, kept, "bob", "EDIT")
    auth.set_permission(store, kept, "carol", "READ")
    client.delete_experiment(gone)
    client.gc(older_than=None, experiment_ids=[gone])
    assert [(e.experiment_id, e.username) for e in auth.list_permissions(store)] == [
        (kept, "bob"),
        (kept, "carol"),
    ]
    auth.remove_user(store, "carol")
    assert [e.username for e in auth.list_permissions(store, experiment_id=kept)] == ["bob"]
    assert isinstance(auth.get_user(store, "bob"), User)


def test_access_facts_read_everything_a_request_needs_at_once(client: TrackingClient) -> None:
    store = client.store
    store.db.create_if_missing()
    dana = auth.add_user(store, "dana", "h")
    visible, hidden = client.create_experiment("visible"), client.create_experiment("hidden")
    run_id = store.create_run(hidden, None, "x").info.run_id
    auth.set_permission(store, hidden, "dana", "NO_PERMISSIONS")
    _token, value = auth.create_token(store, "dana")

    facts = auth.access_facts(
        store, token=value, run_ids=[run_id, "nope"], experiment_names=["visible"], want_readable=True
    )
    assert facts.user == dana
    assert facts.run_experiments == {run_id: hidden} and facts.name_experiments == {"visible": visible}
    assert facts.permission(hidden) == "NO_PERMISSIONS" and facts.permission(visible) == "READ"
    assert facts.readable is not None and visible in facts.readable and hidden not in facts.readable
    assert auth.access_facts(store, user_id=dana.id).user == dana
    assert auth.access_facts(store, token=value + "x").user is None
    auth.set_admin(store, "dana", True)
    admin = auth.access_facts(store, user_id=dana.id, experiment_ids=[hidden], want_readable=True)
    assert admin.permission(hidden) == "MANAGE" and admin.readable is None
    assert admin.user is not None and admin.user.version == dana.version + 1
