"""Every scalar CacheClient method momento 1.29.1 has: set, get, delete,
set_if_not_exists, increment (sync and asyncio clients).

The Python SDK 1.29.1 has no item_get_ttl / update_ttl / increase_ttl /
decrease_ttl, key_exists / keys_exist, get_batch / set_batch, item_get_type or
set_if_present / set_if_equal / ...: there is nothing to call for those.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from momento.errors import MomentoErrorCode
from momento.responses import CacheDelete, CacheGet, CacheIncrement, CacheSet, CacheSetIfNotExists

from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, unique, wait_until


def test_set_then_get_hits_and_an_unknown_key_misses(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_ok(c.set(CACHE, key, "hello"), CacheSet.Success)
    got = c.get(CACHE, key)
    assert_ok(got, CacheGet.Hit)
    assert got.value_string == "hello"
    assert got.value_bytes == b"hello"
    assert_ok(c.get(CACHE, unique()), CacheGet.Miss)


def test_set_overwrites_and_caches_are_separate(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_ok(c.set(CACHE, key, "one"), CacheSet.Success)
    assert_ok(c.set(CACHE, key, "two"), CacheSet.Success)
    assert c.get(CACHE, key).value_string == "two"
    assert_ok(c.get(OTHER_CACHE, key), CacheGet.Miss)
    assert_ok(c.set(OTHER_CACHE, key, "other"), CacheSet.Success)
    assert c.get(CACHE, key).value_string == "two"
    assert c.get(OTHER_CACHE, key).value_string == "other"


def test_delete_removes_the_item_and_deleting_an_absent_key_succeeds(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    c.set(CACHE, key, "v")
    assert_ok(c.delete(CACHE, key), CacheDelete.Success)
    assert_ok(c.get(CACHE, key), CacheGet.Miss)
    assert_ok(c.delete(CACHE, key), CacheDelete.Success)


def test_binary_keys_and_values_round_trip_byte_for_byte(sg):
    c = sg.cache(sg.superuser)
    key = b"\x00\xff\xfe" + unique().encode()
    value = bytes(range(256)) * 4
    assert_ok(c.set(CACHE, key, value), CacheSet.Success)
    got = c.get(CACHE, key)
    assert_ok(got, CacheGet.Hit)
    assert got.value_bytes == value
    # A str key is its UTF-8 bytes; a different byte string is a different key.
    ukey = "ключ-" + unique()
    c.set(CACHE, ukey, "é")
    assert c.get(CACHE, ukey.encode("utf-8")).value_string == "é"
    assert_ok(c.get(CACHE, key[1:]), CacheGet.Miss)


def test_a_value_just_under_the_limit_is_stored(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    value = b"x" * (512 * 1024)
    assert_ok(c.set(CACHE, key, value), CacheSet.Success)
    assert c.get(CACHE, key).value_bytes == value


def test_set_ttl_expires_the_item(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_ok(c.set(CACHE, key, "short", ttl=timedelta(milliseconds=700)), CacheSet.Success)
    assert_ok(c.get(CACHE, key), CacheGet.Hit)
    assert wait_until(lambda: isinstance(c.get(CACHE, key), CacheGet.Miss), timeout=3)


def test_the_clients_default_ttl_applies_when_set_has_none(sg):
    c = sg.cache(sg.superuser, ttl_s=0.7)
    key = unique()
    c.set(CACHE, key, "default-ttl")
    long_key = unique()
    c.set(CACHE, long_key, "long", ttl=timedelta(seconds=60))
    assert_ok(c.get(CACHE, key), CacheGet.Hit)
    assert wait_until(lambda: isinstance(c.get(CACHE, key), CacheGet.Miss), timeout=3)
    assert_ok(c.get(CACHE, long_key), CacheGet.Hit)


def test_set_if_not_exists_stores_once(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_ok(c.set_if_not_exists(CACHE, key, "first"), CacheSetIfNotExists.Stored)
    assert_ok(c.set_if_not_exists(CACHE, key, "second"), CacheSetIfNotExists.NotStored)
    assert c.get(CACHE, key).value_string == "first"
    c.delete(CACHE, key)
    assert_ok(c.set_if_not_exists(CACHE, key, b"\x01bin"), CacheSetIfNotExists.Stored)
    assert c.get(CACHE, key).value_bytes == b"\x01bin"


def test_set_if_not_exists_honours_its_ttl(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_ok(c.set_if_not_exists(CACHE, key, "v", ttl=timedelta(milliseconds=700)), CacheSetIfNotExists.Stored)
    assert wait_until(lambda: isinstance(c.get(CACHE, key), CacheGet.Miss), timeout=3)
    assert_ok(c.set_if_not_exists(CACHE, key, "again"), CacheSetIfNotExists.Stored)


def test_increment_counts_from_zero_and_stores_decimal_text(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    r = c.increment(CACHE, key)
    assert_ok(r, CacheIncrement.Success)
    assert r.value == 1
    assert c.increment(CACHE, key, 41).value == 42
    assert c.increment(CACHE, key, -50).value == -8
    assert c.get(CACHE, key).value_string == "-8"


def test_increment_adds_to_an_integer_set_as_text(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    c.set(CACHE, key, "10")
    assert c.increment(CACHE, key, 5).value == 15


def test_increment_of_a_non_integer_value_is_failed_precondition(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    c.set(CACHE, key, "not a number")
    assert_error(c.increment(CACHE, key, 1), MomentoErrorCode.FAILED_PRECONDITION_ERROR)
    assert c.get(CACHE, key).value_string == "not a number"


def test_increment_ttl_expires_the_counter(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert c.increment(CACHE, key, 3, ttl=timedelta(milliseconds=700)).value == 3
    assert wait_until(lambda: isinstance(c.get(CACHE, key), CacheGet.Miss), timeout=3)
    assert c.increment(CACHE, key, 3).value == 3


@pytest.mark.asyncio
async def test_the_asyncio_client_does_every_scalar_method(sga):
    c = sga.cache_async(sga.superuser)
    key = unique()
    assert_ok(await c.set(CACHE, key, "async"), CacheSet.Success)
    got = await c.get(CACHE, key)
    assert_ok(got, CacheGet.Hit)
    assert got.value_string == "async"
    assert_ok(await c.set_if_not_exists(CACHE, key, "x"), CacheSetIfNotExists.NotStored)
    assert_ok(await c.delete(CACHE, key), CacheDelete.Success)
    assert_ok(await c.get(CACHE, key), CacheGet.Miss)
    assert_ok(await c.set_if_not_exists(CACHE, key, "y"), CacheSetIfNotExists.Stored)
    counter = unique()
    assert (await c.increment(CACHE, counter, 7)).value == 7
    assert_error(await c.increment(CACHE, key, 1), MomentoErrorCode.FAILED_PRECONDITION_ERROR)


def test_every_credential_provider_form_reaches_the_gateway(sg):
    """from_string (envelope), from_api_key_v2 (bare JWT + endpoint), the raw
    dataclass, and from_disposable_token for a disposable token."""
    key = unique()
    for how in ("legacy", "v2", "raw"):
        c = sg.cache(sg.superuser, how=how)
        assert_ok(c.set(CACHE, f"{key}-{how}", how), CacheSet.Success)
        assert c.get(CACHE, f"{key}-{how}").value_string == how
    from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes

    token = sg.mint(DisposableTokenScopes.cache_read_write(CACHE))
    for how in ("disposable", "legacy", "raw"):
        c = sg.cache(token, how=how)
        assert_ok(c.set(CACHE, f"{key}-d-{how}", "d"), CacheSet.Success)


def test_superuser_api_key_loads_through_from_api_key_v2(sg):
    """The API key carries t = "g", so the SDK's v2 validation accepts the bare JWT."""
    from momento import CredentialProvider

    from sg_harness import endpoint_of, jwt_of

    p = CredentialProvider.from_api_key_v2(jwt_of(sg.superuser), endpoint_of(sg.superuser))
    assert p.cache_endpoint == "cache.localhost"
    assert p.auth_token == jwt_of(sg.superuser)


def test_eager_connection_and_the_context_manager_work_in_plaintext(sg):
    from momento import CacheClient, Configurations

    provider = sg.gw.provider(sg.superuser, how="v2")
    key = unique()
    with CacheClient.create(
        Configurations.Laptop.latest(), provider, timedelta(seconds=60), eager_connection_timeout=timedelta(seconds=5)
    ) as c:
        assert_ok(c.set(CACHE, key, "eager"), CacheSet.Success)
        assert c.get(CACHE, key).value_string == "eager"


def test_values_written_are_visible_immediately_through_another_client(sg):
    a = sg.cache(sg.superuser, how="legacy")
    b = sg.cache(sg.superuser, how="v2")
    key = unique()
    a.set(CACHE, key, "shared")
    t0 = time.monotonic()
    assert b.get(CACHE, key).value_string == "shared"
    assert time.monotonic() - t0 < 2
