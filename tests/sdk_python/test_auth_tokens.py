"""AuthClient.generate_disposable_token with every DisposableTokenScopes helper,
and each minted token enforced through CacheClient / TopicClient.

momento 1.29.1's AuthClient has only generate_disposable_token (no
generate_api_key / refresh_api_key) and DisposableTokenScopes has no
topic-prefix helper, so those are not reachable from this SDK.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import pytest
from momento.auth.access_control.disposable_token_scope import (
    CacheItemKey,
    CacheItemKeyPrefix,
    CacheItemSelector,
    DisposableTokenCachePermission,
    DisposableTokenCachePermissions,
    DisposableTokenProps,
    DisposableTokenScope,
)
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.auth.access_control.permission_scope import (
    AllCaches,
    AllTopics,
    CacheName,
    CachePermission,
    CacheRole,
    CacheSelector,
    Permissions,
    TopicName,
    TopicPermission,
    TopicRole,
    TopicSelector,
)
from momento.errors import MomentoErrorCode
from momento.responses import GenerateDisposableToken, TopicSubscribe
from momento.utilities import ExpiresIn

from sg_harness import CACHE, OTHER_CACHE, assert_error, endpoint_of, error_code, jwt_of, unique

PERM = MomentoErrorCode.PERMISSION_ERROR
RW, RO, WO = "readwrite", "readonly", "writeonly"
EXPECTED = {  # role -> ops it allows
    RW: {"read", "write", "delete", "rw"},
    RO: {"read"},
    WO: {"write", "delete"},
}


def cache_outcomes(client, cache: str, key: str) -> dict[str, Optional[MomentoErrorCode]]:
    """What each capability gets for (cache, key): None when allowed, else the error code."""
    return {
        "read": error_code(client.get(cache, key)),
        "write": error_code(client.set(cache, key, "v")),
        "delete": error_code(client.delete(cache, key)),
        "rw": error_code(client.set_if_not_exists(cache, key, "v")),
    }


def expect(role: str) -> dict[str, Optional[MomentoErrorCode]]:
    return {op: (None if op in EXPECTED[role] else PERM) for op in ("read", "write", "delete", "rw")}


def all_denied() -> dict[str, Optional[MomentoErrorCode]]:
    return {op: PERM for op in ("read", "write", "delete", "rw")}


def topic_outcomes(topics, cache: str, topic: str) -> dict[str, Optional[MomentoErrorCode]]:
    sub = topics.subscribe(cache, topic)
    if isinstance(sub, TopicSubscribe.Subscription):
        sub.unsubscribe()
    return {"publish": error_code(topics.publish(cache, topic, "m")), "subscribe": error_code(sub)}


# (helper name, scope factory(prefix), role, in-scope key(prefix), cache-wide?)
CACHE_HELPERS: list[tuple[str, Callable[[str], DisposableTokenScope], str, Callable[[str], str], bool]] = [
    ("cache_read_write", lambda p: S.cache_read_write(CACHE), RW, lambda p: p + "any", True),
    ("cache_read_only", lambda p: S.cache_read_only(CACHE), RO, lambda p: p + "any", True),
    ("cache_write_only", lambda p: S.cache_write_only(CACHE), WO, lambda p: p + "any", True),
    ("cache_key_read_write", lambda p: S.cache_key_read_write(CACHE, p + "k"), RW, lambda p: p + "k", False),
    ("cache_key_read_only", lambda p: S.cache_key_read_only(CACHE, p + "k"), RO, lambda p: p + "k", False),
    ("cache_key_write_only", lambda p: S.cache_key_write_only(CACHE, p + "k"), WO, lambda p: p + "k", False),
    ("cache_key_prefix_read_write", lambda p: S.cache_key_prefix_read_write(CACHE, p), RW, lambda p: p + "x", False),
    ("cache_key_prefix_read_only", lambda p: S.cache_key_prefix_read_only(CACHE, p), RO, lambda p: p + "x", False),
    ("cache_key_prefix_write_only", lambda p: S.cache_key_prefix_write_only(CACHE, p), WO, lambda p: p + "x", False),
]


@pytest.mark.parametrize("name,scope,role,in_key,cache_wide", CACHE_HELPERS, ids=[h[0] for h in CACHE_HELPERS])
def test_each_cache_scope_helper_is_enforced(sg, name, scope, role, in_key, cache_wide):
    prefix = unique("user") + "/"
    token = sg.mint(scope(prefix))
    c = sg.cache(token)
    assert cache_outcomes(c, CACHE, in_key(prefix)) == expect(role)
    if not cache_wide:  # a key outside the key / prefix
        assert cache_outcomes(c, CACHE, unique("elsewhere")) == all_denied()
        assert cache_outcomes(c, CACHE, prefix[:-1]) == all_denied()  # the prefix minus its last byte
    assert cache_outcomes(c, OTHER_CACHE, in_key(prefix)) == all_denied()
    # Cache permissions never grant topics.
    assert topic_outcomes(sg.topics(token), CACHE, "t") == {"publish": PERM, "subscribe": PERM}


def test_all_caches_and_cache_name_selectors(sg):
    everywhere = sg.cache(sg.mint(S.cache_read_write(AllCaches())))
    for cache in (CACHE, OTHER_CACHE):
        assert cache_outcomes(everywhere, cache, unique()) == expect(RW)
    named = sg.cache(sg.mint(S.cache_read_only(CacheName(OTHER_CACHE))))
    assert cache_outcomes(named, OTHER_CACHE, unique()) == expect(RO)
    assert cache_outcomes(named, CACHE, unique()) == all_denied()
    key = unique()
    keyed = sg.cache(sg.mint(S.cache_key_read_write(AllCaches(), CacheItemKey(key))))
    assert cache_outcomes(keyed, CACHE, key) == expect(RW)
    assert cache_outcomes(keyed, OTHER_CACHE, key) == expect(RW)
    assert cache_outcomes(keyed, CACHE, key + "x") == all_denied()
    prefix = unique("p") + "/"
    prefixed = sg.cache(sg.mint(S.cache_key_prefix_read_only(AllCaches(), CacheItemKeyPrefix(prefix))))
    assert cache_outcomes(prefixed, OTHER_CACHE, prefix + "a") == expect(RO)


TOPIC_HELPERS = [
    ("topic_publish_subscribe", S.topic_publish_subscribe, {"publish": None, "subscribe": None}),
    ("topic_subscribe_only", S.topic_subscribe_only, {"publish": PERM, "subscribe": None}),
    ("topic_publish_only", S.topic_publish_only, {"publish": None, "subscribe": PERM}),
]


@pytest.mark.parametrize("name,helper,allowed", TOPIC_HELPERS, ids=[h[0] for h in TOPIC_HELPERS])
def test_each_topic_scope_helper_is_enforced(sg, name, helper, allowed):
    topic = unique("topic")
    token = sg.mint(helper(CACHE, topic))
    t = sg.topics(token)
    assert topic_outcomes(t, CACHE, topic) == allowed
    assert topic_outcomes(t, CACHE, topic + "-other") == {"publish": PERM, "subscribe": PERM}
    assert topic_outcomes(t, OTHER_CACHE, topic) == {"publish": PERM, "subscribe": PERM}
    # Topic permissions never grant cache items.
    assert cache_outcomes(sg.cache(token), CACHE, topic) == all_denied()


def test_all_topics_and_topic_name_selectors(sg):
    any_topic = sg.topics(sg.mint(S.topic_publish_subscribe(CACHE, AllTopics())))
    assert topic_outcomes(any_topic, CACHE, unique("t")) == {"publish": None, "subscribe": None}
    assert topic_outcomes(any_topic, OTHER_CACHE, unique("t")) == {"publish": PERM, "subscribe": PERM}
    anywhere = sg.topics(sg.mint(S.topic_subscribe_only(AllCaches(), AllTopics())))
    assert topic_outcomes(anywhere, OTHER_CACHE, unique("t")) == {"publish": PERM, "subscribe": None}
    topic = unique("t")
    named = sg.topics(sg.mint(S.topic_publish_only(CacheName(CACHE), TopicName(topic))))
    assert topic_outcomes(named, CACHE, topic) == {"publish": None, "subscribe": PERM}


def test_several_permissions_at_once_are_a_union(sg):
    topic = unique("topic")
    scope = DisposableTokenScope(
        Permissions(
            [
                CachePermission(CacheSelector(CACHE), CacheRole.READ_ONLY),
                CachePermission(CacheSelector(OTHER_CACHE), CacheRole.WRITE_ONLY),
                TopicPermission(TopicRole.PUBLISH_ONLY, CacheSelector(CACHE), TopicSelector(topic)),
                TopicPermission(TopicRole.SUBSCRIBE_ONLY, CacheSelector(OTHER_CACHE), TopicSelector(AllTopics())),
            ]
        )
    )
    token = sg.mint(scope)
    c, t = sg.cache(token), sg.topics(token)
    assert cache_outcomes(c, CACHE, unique()) == expect(RO)
    assert cache_outcomes(c, OTHER_CACHE, unique()) == expect(WO)
    assert topic_outcomes(t, CACHE, topic) == {"publish": None, "subscribe": PERM}
    assert topic_outcomes(t, CACHE, unique("t")) == {"publish": PERM, "subscribe": PERM}
    assert topic_outcomes(t, OTHER_CACHE, unique("t")) == {"publish": PERM, "subscribe": None}


def test_several_key_permissions_at_once(sg):
    base = unique("u")
    scope = DisposableTokenScope(
        DisposableTokenCachePermissions(
            [
                DisposableTokenCachePermission(
                    CacheSelector(CACHE), CacheRole.READ_WRITE, CacheItemSelector(CacheItemKey(base + "-exact"))
                ),
                DisposableTokenCachePermission(
                    CacheSelector(CACHE), CacheRole.READ_ONLY, CacheItemSelector(CacheItemKeyPrefix(base + "/ro/"))
                ),
            ]
        )
    )
    c = sg.cache(sg.mint(scope))
    assert cache_outcomes(c, CACHE, base + "-exact") == expect(RW)
    assert cache_outcomes(c, CACHE, base + "/ro/a") == expect(RO)
    assert cache_outcomes(c, CACHE, base + "-exact2") == all_denied()


def test_the_minted_token_carries_endpoint_expiry_and_loads_in_the_sdk(sg):
    before = int(time.time())
    resp = sg.auth().generate_disposable_token(S.cache_read_write(CACHE), ExpiresIn.minutes(5))
    assert isinstance(resp, GenerateDisposableToken.Success), resp
    assert resp.endpoint == "localhost"
    assert before + 300 - 5 <= resp.expires_at.epoch() <= int(time.time()) + 300 + 5
    assert endpoint_of(resp.auth_token) == "localhost"
    assert jwt_of(resp.auth_token).count(".") == 2
    c = sg.cache(resp.auth_token, how="disposable")
    assert cache_outcomes(c, CACHE, unique()) == expect(RW)


def test_token_id_is_validated(sg):
    a = sg.auth()
    ok = a.generate_disposable_token(
        S.cache_read_only(CACHE), ExpiresIn.minutes(1), DisposableTokenProps(token_id="x" * 64)
    )
    assert isinstance(ok, GenerateDisposableToken.Success), ok
    too_long = a.generate_disposable_token(
        S.cache_read_only(CACHE), ExpiresIn.minutes(1), DisposableTokenProps(token_id="x" * 65)
    )
    assert_error(too_long, MomentoErrorCode.INVALID_ARGUMENT_ERROR)


def test_a_disposable_token_beyond_the_maximum_lifetime_is_refused(sg):
    resp = sg.auth().generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.hours(26))
    assert_error(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    resp = sg.auth().generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.seconds(0))
    assert_error(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    ok = sg.auth().generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.hours(24))
    assert isinstance(ok, GenerateDisposableToken.Success), ok


def test_an_empty_key_prefix_scope_is_refused(sg):
    resp = sg.auth().generate_disposable_token(S.cache_key_prefix_read_write(CACHE, ""), ExpiresIn.minutes(1))
    assert_error(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR)


def test_only_superusers_mint_disposable_tokens(sg):
    fine = sg.mint(S.cache_read_write(AllCaches()))
    resp = sg.auth(fine).generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.minutes(1))
    assert_error(
        resp,
        MomentoErrorCode.INVALID_ARGUMENT_ERROR,
        contains="Only tokens with SuperUser permissions can generate disposable tokens",
    )
    assert_error(
        sg.auth("not-a-token", how="verbatim").generate_disposable_token(S.cache_read_only(CACHE), ExpiresIn.minutes(1)),
        MomentoErrorCode.AUTHENTICATION_ERROR,
    )


@pytest.mark.asyncio
async def test_the_asyncio_auth_client_mints_an_enforced_token(sga):
    topic = unique("topic")
    resp = await sga.auth_async().generate_disposable_token(
        S.topic_publish_only(CACHE, topic), ExpiresIn.minutes(1), DisposableTokenProps(token_id="async-id")
    )
    assert isinstance(resp, GenerateDisposableToken.Success), resp
    t = sga.topics_async(resp.auth_token)
    assert error_code(await t.publish(CACHE, topic, "x")) is None
    assert error_code(await t.subscribe(CACHE, topic)) == PERM
    c = sga.cache_async(resp.auth_token)
    assert error_code(await c.get(CACHE, "k")) == PERM
