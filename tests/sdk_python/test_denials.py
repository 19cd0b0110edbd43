"""PERMISSION_ERROR and AUTHENTICATION_ERROR as the SDK reports them, and
credentials (and subscriptions) that end at their expiry."""

from __future__ import annotations

import time

import grpc
import pytest
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.errors import MomentoErrorCode, convert_error
from momento.internal.services import Service
from momento.responses import CacheGet, CacheSet, TopicPublish, TopicSubscribe

from sg_harness import (
    CACHE,
    OTHER_CACHE,
    assert_error,
    assert_ok,
    drain_until_end,
    jwt_of,
    next_item,
    unique,
    wait_until,
)

PERM = MomentoErrorCode.PERMISSION_ERROR
AUTHN = MomentoErrorCode.AUTHENTICATION_ERROR


def test_wrong_cache_wrong_key_and_wrong_prefix_are_permission_errors(sg):
    key = unique("k")
    prefix = unique("p") + "/"
    by_key = sg.cache(sg.mint(S.cache_key_read_write(CACHE, key)))
    by_prefix = sg.cache(sg.mint(S.cache_key_prefix_read_write(CACHE, prefix)))
    assert_ok(by_key.set(CACHE, key, "v"), CacheSet.Success)
    assert_ok(by_prefix.set(CACHE, prefix + "a", "v"), CacheSet.Success)
    assert_error(by_key.get(OTHER_CACHE, key), PERM)  # wrong cache
    assert_error(by_key.get(CACHE, key + "-other"), PERM)  # wrong key
    assert_error(by_key.set(CACHE, key[:-1], "v"), PERM)
    assert_error(by_prefix.get(CACHE, "x" + prefix), PERM)  # wrong prefix
    assert_error(by_prefix.set(CACHE, prefix[:-1], "v"), PERM)
    assert_error(by_prefix.get(OTHER_CACHE, prefix + "a"), PERM)
    # A missing key outside the scope is a permission error, never a miss.
    assert_error(by_key.get(CACHE, unique("absent")), PERM)


def test_wrong_role_readonly_cannot_write_and_writeonly_cannot_read(sg):
    key = unique()
    sg.cache(sg.superuser).set(CACHE, key, "seed")
    ro = sg.cache(sg.mint(S.cache_read_only(CACHE)))
    wo = sg.cache(sg.mint(S.cache_write_only(CACHE)))
    assert ro.get(CACHE, key).value_string == "seed"
    for resp in (ro.set(CACHE, key, "x"), ro.delete(CACHE, key), ro.set_if_not_exists(CACHE, key, "x"), ro.increment(CACHE, key)):
        assert_error(resp, PERM)
    assert_ok(wo.set(CACHE, key, "written"), CacheSet.Success)
    assert_error(wo.get(CACHE, key), PERM)
    # Conditional writes and increments are read-write: not granted by writeonly.
    assert_error(wo.set_if_not_exists(CACHE, unique(), "x"), PERM)
    assert_error(wo.increment(CACHE, unique()), PERM)
    assert ro.get(CACHE, key).value_string == "written"


def test_a_cache_only_token_gets_no_topic_operation(sg):
    token = sg.mint(S.cache_read_write(CACHE))
    t = sg.topics(token)
    assert_error(t.publish(CACHE, "t", "x"), PERM)
    assert_error(t.subscribe(CACHE, "t"), PERM)


def test_a_topic_token_on_the_wrong_topic_is_denied(sg):
    topic = unique("topic")
    t = sg.topics(sg.mint(S.topic_publish_subscribe(CACHE, topic)))
    assert_error(t.publish(CACHE, topic + "x", "m"), PERM)
    assert_error(t.subscribe(CACHE, topic[:-1]), PERM)
    assert_error(t.publish(OTHER_CACHE, topic, "m"), PERM)


def test_garbage_and_tampered_credentials_are_authentication_errors(sg):
    good = jwt_of(sg.superuser)
    head, body, sig = good.split(".")
    tampered = f"{head}.{body}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}"
    for bad in ("not-a-token", "", tampered, f"{head}.{body}."):
        c = sg.cache(bad, how="verbatim")
        assert_error(c.get(CACHE, "k"), AUTHN)
        assert_error(c.set(CACHE, "k", "v"), AUTHN)
        assert_error(c.list_caches(), AUTHN)
        t = sg.topics(bad, how="verbatim")
        assert_error(t.publish(CACHE, "t", "m"), AUTHN)
        assert_error(t.subscribe(CACHE, "t"), AUTHN)


def test_a_two_second_token_works_then_fails_with_authentication_error(sg):
    token = sg.mint(S.cache_read_write(CACHE), ttl_s=2)
    c = sg.cache(token)
    key = unique()
    assert_ok(c.set(CACHE, key, "v"), CacheSet.Success)
    assert_ok(c.get(CACHE, key), CacheGet.Hit)
    assert wait_until(lambda: not isinstance(c.get(CACHE, key), CacheGet.Hit), timeout=5, step=0.2)
    resp = c.get(CACHE, key)
    assert_error(resp, AUTHN, contains="expired")
    assert_error(c.set(CACHE, key, "v"), AUTHN)
    t = sg.topics(token)
    assert_error(t.publish(CACHE, "t", "m"), AUTHN)


def test_a_subscription_ends_with_authentication_error_at_its_tokens_expiry(sg):
    """The SDK's iterator swallows stream errors (it retries next() forever), so
    the stream's end is read from the gRPC call the subscription wraps."""
    topic = unique("topic")
    ttl = 3
    token = sg.mint(S.topic_publish_subscribe(CACHE, topic), ttl_s=ttl)
    minted = time.time()
    t = sg.topics(token)
    sub = t.subscribe(CACHE, topic)
    assert_ok(sub, TopicSubscribe.Subscription)
    assert_ok(t.publish(CACHE, topic, "before expiry"), TopicPublish.Success)
    assert next_item(sub).value == "before expiry"
    items, err = drain_until_end(sub, timeout=ttl + 4)
    ended = time.time()
    assert all(i.WhichOneof("kind") == "heartbeat" for i in items), items
    assert isinstance(err, grpc.RpcError), f"stream ended without an error: {err!r}"
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED, (err.code(), err.details())
    sdk_err = convert_error(err, Service.TOPICS)
    assert sdk_err.error_code == AUTHN
    # Token expiry has whole-second resolution: it ends within [ttl-1, ttl+2] s of minting.
    assert ttl - 1 <= ended - minted <= ttl + 2, f"ended {ended - minted:.2f}s after minting"


def test_a_fine_grained_token_cannot_mint_or_reach_the_control_plane(sg):
    from momento.utilities import ExpiresIn

    token = sg.mint(S.cache_read_write(CACHE))
    resp = sg.auth(token).generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.seconds(30))
    assert_error(
        resp,
        MomentoErrorCode.INVALID_ARGUMENT_ERROR,
        contains="Only tokens with SuperUser permissions can generate disposable tokens",
    )
    assert_error(sg.cache(token).create_cache(unique("cache")), PERM)


@pytest.mark.asyncio
async def test_the_asyncio_clients_see_the_same_denials(sga):
    key = unique()
    ro = sga.cache_async(sga.mint(S.cache_read_only(CACHE)))
    assert_error(await ro.set(CACHE, key, "x"), PERM)
    assert_error(await ro.get(OTHER_CACHE, key), PERM)
    bad = sga.cache_async("not-a-token", how="verbatim")
    assert_error(await bad.get(CACHE, key), AUTHN)
    t = sga.topics_async(sga.mint(S.cache_read_write(CACHE)))
    assert_error(await t.publish(CACHE, "t", "x"), PERM)
    assert_error(await t.subscribe(CACHE, "t"), PERM)
