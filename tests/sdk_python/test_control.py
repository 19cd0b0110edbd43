"""Control plane through CacheClient: create_cache, list_caches, flush_cache, delete_cache."""

from __future__ import annotations

from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.auth.access_control.permission_scope import AllCaches
from momento.errors import MomentoErrorCode
from momento.responses import CacheFlush, CacheGet, CreateCache, DeleteCache, ListCaches

from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, unique, wait_until


def cache_names(client) -> list[str]:
    resp = client.list_caches()
    assert_ok(resp, ListCaches.Success)
    return [c.name for c in resp.caches]


def test_create_list_flush_delete_a_cache(sg):
    c = sg.cache(sg.superuser)
    name = unique("cache")
    assert_ok(c.create_cache(name), CreateCache.Success)
    assert_ok(c.create_cache(name), CreateCache.CacheAlreadyExists)
    names = cache_names(c)
    assert {name, CACHE, OTHER_CACHE} <= set(names), names

    c.set(name, "k", "v")
    c.set(CACHE, "flush-neighbour-" + name, "stays")
    assert c.get(name, "k").value_string == "v"
    assert_ok(c.flush_cache(name), CacheFlush.Success)
    assert wait_until(lambda: isinstance(c.get(name, "k"), CacheGet.Miss), timeout=3)
    assert c.get(CACHE, "flush-neighbour-" + name).value_string == "stays"  # only that cache
    c.set(name, "k2", "after flush")
    assert c.get(name, "k2").value_string == "after flush"

    assert_ok(c.delete_cache(name), DeleteCache.Success)
    assert name not in cache_names(c)
    assert_error(c.get(name, "k2"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.set(name, "k2", "v"), MomentoErrorCode.NOT_FOUND_ERROR)


def test_a_deleted_cache_created_again_is_empty(sg):
    c = sg.cache(sg.superuser)
    name = unique("cache")
    assert_ok(c.create_cache(name), CreateCache.Success)
    c.set(name, "k", "v")
    assert_ok(c.delete_cache(name), DeleteCache.Success)
    assert_ok(c.create_cache(name), CreateCache.Success)
    assert_ok(c.get(name, "k"), CacheGet.Miss)
    c.delete_cache(name)


def test_missing_caches_are_not_found(sg):
    c = sg.cache(sg.superuser)
    missing = unique("no-such-cache")
    assert_error(c.delete_cache(missing), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.flush_cache(missing), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.get(missing, "k"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.set(missing, "k", "v"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.delete(missing, "k"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.increment(missing, "k"), MomentoErrorCode.NOT_FOUND_ERROR)
    assert_error(c.set_if_not_exists(missing, "k", "v"), MomentoErrorCode.NOT_FOUND_ERROR)


def test_the_control_plane_is_superuser_only(sg):
    fine = sg.cache(sg.mint(S.cache_read_write(AllCaches())))
    name = unique("cache")
    assert_error(fine.create_cache(name), MomentoErrorCode.PERMISSION_ERROR)
    assert_error(fine.list_caches(), MomentoErrorCode.PERMISSION_ERROR)
    assert_error(fine.flush_cache(CACHE), MomentoErrorCode.PERMISSION_ERROR)
    assert_error(fine.delete_cache(OTHER_CACHE), MomentoErrorCode.PERMISSION_ERROR)
    su = sg.cache(sg.superuser)
    assert name not in cache_names(su)
    assert OTHER_CACHE in cache_names(su)


def test_an_empty_cache_name_is_refused_by_the_sdk(sg):
    c = sg.cache(sg.superuser)
    assert_error(c.create_cache(""), MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    assert_error(c.delete_cache(""), MomentoErrorCode.INVALID_ARGUMENT_ERROR)
    assert_error(c.flush_cache(""), MomentoErrorCode.INVALID_ARGUMENT_ERROR)
