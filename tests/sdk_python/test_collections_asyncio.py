"""Collections through momento 1.29.1's asyncio client.

See collections_wire.py for the general notes.
"""

from __future__ import annotations

import pytest
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.responses import (
    CacheDictionaryFetch,
    CacheDictionarySetFields,
    CacheSetAddElements,
    CacheSortedSetPutElements,
)

from collections_wire import DESC, PERM, PRECONDITION
from sg_harness import CACHE, assert_error, assert_ok, unique


# ============================================================================
# asyncio
# ============================================================================


@pytest.mark.asyncio
async def test_the_asyncio_client_does_collections_the_same_way(sga):
    c = sga.cache_async(sga.superuser)
    d, s, lst, z = (unique(p) for p in ("dict", "set", "list", "zset"))
    assert_ok(await c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
    assert_ok(await c.dictionary_set_fields(CACHE, d, {"a": "1"}), CacheDictionarySetFields.Success)
    assert (await c.dictionary_increment(CACHE, d, "a", 2)).value == 3
    assert (await c.dictionary_get_field(CACHE, d, "a")).value_string == "3"
    assert_ok(await c.set_add_elements(CACHE, s, ["x", "y"]), CacheSetAddElements.Success)
    assert (await c.set_fetch(CACHE, s)).value_set_string == {"x", "y"}
    assert (await c.list_concatenate_back(CACHE, lst, ["1", "2", "3"], truncate_front_to_size=2)).list_length == 2
    assert (await c.list_fetch(CACHE, lst)).value_list_string == ["2", "3"]
    assert (await c.list_pop_front(CACHE, lst)).value_string == "2"
    assert_ok(await c.sorted_set_put_elements(CACHE, z, {"b": 1.0, "a": 1.0}), CacheSortedSetPutElements.Success)
    assert (await c.sorted_set_fetch_by_rank(CACHE, z, sort_order=DESC)).value_list_string == [("b", 1.0), ("a", 1.0)]
    assert (await c.sorted_set_get_rank(CACHE, z, "b")).rank == 1
    assert_error(await c.set_fetch(CACHE, lst), PRECONDITION)
    assert_error(await c.get(CACHE, d), PRECONDITION)
    ro = sga.cache_async(sga.mint(S.cache_read_only(CACHE)))
    assert (await ro.set_fetch(CACHE, s)).value_set_string == {"x", "y"}
    assert_error(await ro.set_add_element(CACHE, s, "z"), PERM)
    assert_error(await ro.dictionary_increment(CACHE, d, "a"), PERM)
    wo = sga.cache_async(sga.mint(S.cache_write_only(CACHE)))
    assert_error(await wo.list_pop_back(CACHE, lst), PERM)
    assert_error(await wo.dictionary_fetch(CACHE, d), PERM)
