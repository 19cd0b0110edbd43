"""Bad input as the SDK maps it: what the SDK refuses itself, what the gateway
answers (INVALID_ARGUMENT, LIMIT_EXCEEDED naming the item size, NOT_FOUND)."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from momento.errors import MomentoErrorCode
from momento.responses import CacheGet

from sg_harness import CACHE, MAX_VALUE_BYTES, assert_error, assert_ok, unique

INVALID = MomentoErrorCode.INVALID_ARGUMENT_ERROR
LIMIT = MomentoErrorCode.LIMIT_EXCEEDED_ERROR


def grpc_details(resp):
    """(status code, details, trailer metadata) the SDK kept from the server's answer."""
    td = resp.inner_exception.transport_details
    assert td is not None, f"no transport details: the SDK refused this itself: {resp!r}"
    return td.grpc.code, td.grpc.details, td.grpc.metadata


def test_an_empty_cache_name_is_caught_by_the_sdk(sg):
    c = sg.cache(sg.superuser)
    for resp in (c.get("", "k"), c.set("", "k", "v"), c.delete("", "k"), c.increment("", "k"), c.set_if_not_exists("", "k", "v")):
        assert_error(resp, INVALID, contains="must not be empty")
        assert resp.inner_exception.transport_details is None  # never sent


def test_an_empty_key_is_invalid_argument_from_the_gateway(sg):
    c = sg.cache(sg.superuser)
    for resp in (c.get(CACHE, ""), c.set(CACHE, "", "v"), c.delete(CACHE, ""), c.set_if_not_exists(CACHE, b"", "v"), c.increment(CACHE, "")):
        assert_error(resp, INVALID)
        code, _, _ = grpc_details(resp)  # the SDK sends it: the gateway answers
        assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_non_positive_ttl_is_caught_by_the_sdk(sg):
    c = sg.cache(sg.superuser)
    assert_error(c.set(CACHE, unique(), "v", ttl=timedelta(seconds=0)), INVALID, contains="positive")
    assert_error(c.set(CACHE, unique(), "v", ttl=timedelta(seconds=-1)), INVALID)


def assert_item_size_limit(resp) -> None:
    assert_error(resp, LIMIT)
    code, details, metadata = grpc_details(resp)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    err = metadata.get("err") if metadata is not None else None
    assert err == "item_size_limit_exceeded", f"err trailer = {err!r}, details = {details!r}"
    assert "item size" in (details or "").lower(), f"details = {details!r}"
    assert resp.message.startswith("Item size limit exceeded"), resp.message


def test_an_oversized_value_is_limit_exceeded_naming_the_item_size(sg):
    c = sg.cache(sg.superuser)
    key = unique()
    assert_item_size_limit(c.set(CACHE, key, b"x" * (MAX_VALUE_BYTES + 1)))
    assert_ok(c.get(CACHE, key), CacheGet.Miss)


def test_an_oversized_conditional_write_is_limit_exceeded_too(sg):
    c = sg.cache(sg.superuser)
    assert_item_size_limit(c.set_if_not_exists(CACHE, unique(), b"y" * (MAX_VALUE_BYTES + 1)))


def test_a_value_over_the_grpc_message_cap_is_limit_exceeded(sg):
    c = sg.cache(sg.superuser)
    resp = c.set(CACHE, unique(), b"z" * (2 * MAX_VALUE_BYTES))
    assert_error(resp, LIMIT)


@pytest.mark.asyncio
async def test_the_asyncio_client_maps_bad_input_the_same_way(sga):
    c = sga.cache_async(sga.superuser)
    assert_error(await c.get("", "k"), INVALID)
    assert_error(await c.get(CACHE, ""), INVALID)
    assert_item_size_limit(await c.set(CACHE, unique(), b"x" * (MAX_VALUE_BYTES + 1)))
    assert_error(await c.get(unique("missing"), "k"), MomentoErrorCode.NOT_FOUND_ERROR)
