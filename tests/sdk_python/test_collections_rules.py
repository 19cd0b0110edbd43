"""Rules every collection follows through momento 1.29.1: TTLs, item types, deletion,
wrong types, and bad input (NaN scores, empty collection names).

See collections_wire.py for the general notes (what `Wire` sends below the SDK).
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Callable

import grpc
import pytest
from momento import CacheClient
from momento.requests import CollectionTtl
from momento.responses import CacheDictionaryFetch, CacheDelete, CacheListFetch, CacheSetFetch, CacheSortedSetFetch
from momento_wire_types import cacheclient_pb2 as pb

from collections_wire import INVALID, MISSING, NAN, PRECONDITION, Wire, assert_success, fetch_bytes
from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, error_code, unique, wait_until


# ============================================================================
# TTLs, types, deletion
# ============================================================================

WRITERS: dict[str, Callable[[CacheClient, str, CollectionTtl], object]] = {
    "dictionary_set_field": lambda c, n, ttl: c.dictionary_set_field(CACHE, n, unique("f"), "v", ttl=ttl),
    "dictionary_increment": lambda c, n, ttl: c.dictionary_increment(CACHE, n, "n", 1, ttl=ttl),
    "set_add_element": lambda c, n, ttl: c.set_add_element(CACHE, n, unique("e"), ttl=ttl),
    "list_push_back": lambda c, n, ttl: c.list_push_back(CACHE, n, "v", ttl=ttl),
    "list_concatenate_front": lambda c, n, ttl: c.list_concatenate_front(CACHE, n, ["v", "w"], ttl=ttl),
    "sorted_set_put_element": lambda c, n, ttl: c.sorted_set_put_element(CACHE, n, unique("v"), 1.0, ttl=ttl),
    "sorted_set_increment_score": lambda c, n, ttl: c.sorted_set_increment_score(CACHE, n, "v", 1.0, ttl=ttl),
}


def _ttl_within(w: Wire, name: str, low_ms: int, high_ms: int) -> None:
    ttl = w.ttl_ms(name)
    assert isinstance(ttl, int) and low_ms < ttl <= high_ms, f"remaining TTL {ttl!r} not in ({low_ms}, {high_ms}]"


@pytest.mark.parametrize("write", list(WRITERS.values()), ids=list(WRITERS.keys()))
def test_collection_ttl_refresh_false_keeps_the_creation_ttl_and_refresh_true_resets_it(sg, write):
    c = sg.cache(sg.superuser, ttl_s=45)
    w = Wire(c)
    name = unique("ttl")
    seconds = lambda s: timedelta(seconds=s)  # noqa: E731
    # Creation sets the write's TTL, refresh or not.
    assert_success(write(c, name, CollectionTtl(ttl=seconds(30), refresh_ttl=False)))
    _ttl_within(w, name, 25_000, 30_000)
    # refresh false: the TTL set at creation stays.
    assert_success(write(c, name, CollectionTtl(ttl=seconds(5), refresh_ttl=False)))
    _ttl_within(w, name, 25_000, 30_000)
    assert_success(write(c, name, CollectionTtl(ttl=seconds(300), refresh_ttl=False)))
    _ttl_within(w, name, 25_000, 30_000)
    # refresh true: reset to this write's TTL (shorter or longer).
    assert_success(write(c, name, CollectionTtl.of(seconds(5))))
    _ttl_within(w, name, 0, 5_000)
    assert_success(write(c, name, CollectionTtl.of(seconds(120))))
    _ttl_within(w, name, 110_000, 120_000)
    # The default: the client's TTL (45 s), refreshed.
    assert_success(write(c, name, CollectionTtl.from_cache_ttl()))
    _ttl_within(w, name, 40_000, 45_000)


def test_a_collection_expires_at_its_creation_ttl_unless_a_write_refreshes_it(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    short = CollectionTtl(ttl=timedelta(milliseconds=700), refresh_ttl=False)
    kept = CollectionTtl(ttl=timedelta(seconds=60), refresh_ttl=False)
    d, s, lst, z, refreshed = (unique(p) for p in ("dict", "set", "list", "zset", "list"))
    c.dictionary_set_field(CACHE, d, "f", "v", ttl=short)
    c.set_add_element(CACHE, s, "e", ttl=short)
    c.list_push_back(CACHE, lst, "v", ttl=short)
    c.sorted_set_put_element(CACHE, z, "v", 1.0, ttl=short)
    c.list_push_back(CACHE, refreshed, "v", ttl=short)
    time.sleep(0.25)
    # Writes without refresh do not extend the short TTL; one with refresh does.
    c.dictionary_set_field(CACHE, d, "g", "v", ttl=kept)
    c.set_add_element(CACHE, s, "f", ttl=kept)
    c.list_push_back(CACHE, lst, "w", ttl=kept)
    c.sorted_set_put_element(CACHE, z, "w", 2.0, ttl=kept)
    c.list_push_back(CACHE, refreshed, "w", ttl=CollectionTtl.of(timedelta(seconds=60)))
    assert_ok(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Hit)

    def all_gone() -> bool:
        return (
            isinstance(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
            and isinstance(c.set_fetch(CACHE, s), CacheSetFetch.Miss)
            and isinstance(c.list_fetch(CACHE, lst), CacheListFetch.Miss)
            and isinstance(c.sorted_set_fetch_by_rank(CACHE, z), CacheSortedSetFetch.Miss)
        )

    assert wait_until(all_gone, timeout=1.5, step=0.1)
    for name in (d, s, lst, z):
        assert w.item_type(name) is MISSING
    assert c.list_fetch(CACHE, refreshed).value_list_string == ["v", "w"]
    _ttl_within(w, refreshed, 50_000, 60_000)


def _one_of_each(c) -> dict[str, str]:
    """One item of each kind, by kind: the scalar "7", a dictionary with f =
    "1", and one-element set, list and sorted set."""
    names = {kind: unique(kind.lower()) for kind in ("SCALAR", "DICTIONARY", "SET", "LIST", "SORTED_SET")}
    c.set(CACHE, names["SCALAR"], "7")
    c.dictionary_set_field(CACHE, names["DICTIONARY"], "f", "1")
    c.set_add_element(CACHE, names["SET"], "e")
    c.list_push_back(CACHE, names["LIST"], "v")
    c.sorted_set_put_element(CACHE, names["SORTED_SET"], "v", 1.0)
    return names


def test_item_get_type_names_each_kind_and_delete_removes_a_collection(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    names = _one_of_each(c)
    for kind, name in names.items():
        assert w.item_type(name) == kind, (kind, name)
        ttl = w.ttl_ms(name)
        assert isinstance(ttl, int) and 50_000 < ttl <= 60_000, (kind, ttl)
    assert w.item_type(unique("absent")) is MISSING
    assert w.ttl_ms(unique("absent")) is MISSING
    assert w.item_type(names["LIST"], cache=OTHER_CACHE) is MISSING
    # Delete removes an item of any type.
    for name in names.values():
        assert_ok(c.delete(CACHE, name), CacheDelete.Success)
        assert w.item_type(name) is MISSING
    assert_ok(c.dictionary_fetch(CACHE, names["DICTIONARY"]), CacheDictionaryFetch.Miss)
    assert_ok(c.set_fetch(CACHE, names["SET"]), CacheSetFetch.Miss)
    assert_ok(c.list_fetch(CACHE, names["LIST"]), CacheListFetch.Miss)
    assert_ok(c.sorted_set_fetch_by_rank(CACHE, names["SORTED_SET"]), CacheSortedSetFetch.Miss)


def test_an_operation_on_an_item_of_another_type_is_failed_precondition(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    names = _one_of_each(c)
    ops: dict[str, list[tuple[str, Callable[[str], object]]]] = {
        "SCALAR": [
            ("get", lambda n: c.get(CACHE, n)),
            ("increment", lambda n: c.increment(CACHE, n, 1)),
        ],
        "DICTIONARY": [
            ("dictionary_fetch", lambda n: c.dictionary_fetch(CACHE, n)),
            ("dictionary_get_field", lambda n: c.dictionary_get_field(CACHE, n, "f")),
            ("dictionary_get_fields", lambda n: c.dictionary_get_fields(CACHE, n, ["f"])),
            ("dictionary_set_field", lambda n: c.dictionary_set_field(CACHE, n, "f", "v")),
            ("dictionary_increment", lambda n: c.dictionary_increment(CACHE, n, "f", 1)),
            ("dictionary_remove_field", lambda n: c.dictionary_remove_field(CACHE, n, "f")),
            ("DictionaryLength", lambda n: w.dictionary_length(n)),
        ],
        "SET": [
            ("set_fetch", lambda n: c.set_fetch(CACHE, n)),
            ("set_add_element", lambda n: c.set_add_element(CACHE, n, "e")),
            ("set_remove_element", lambda n: c.set_remove_element(CACHE, n, "e")),
            ("SetContains", lambda n: w.set_contains(n, ["e"])),
            ("SetLength", lambda n: w.set_length(n)),
            ("SetPop", lambda n: w.set_pop(n, 1)),
        ],
        "LIST": [
            ("list_fetch", lambda n: c.list_fetch(CACHE, n)),
            ("list_length", lambda n: c.list_length(CACHE, n)),
            ("list_push_back", lambda n: c.list_push_back(CACHE, n, "v")),
            ("list_concatenate_front", lambda n: c.list_concatenate_front(CACHE, n, ["v"])),
            ("list_pop_front", lambda n: c.list_pop_front(CACHE, n)),
            ("list_pop_back", lambda n: c.list_pop_back(CACHE, n)),
            ("list_remove_value", lambda n: c.list_remove_value(CACHE, n, "v")),
            ("ListRetain", lambda n: w.list_retain(n, 0, 1)),
        ],
        "SORTED_SET": [
            ("sorted_set_fetch_by_rank", lambda n: c.sorted_set_fetch_by_rank(CACHE, n)),
            ("sorted_set_fetch_by_score", lambda n: c.sorted_set_fetch_by_score(CACHE, n)),
            ("sorted_set_get_score", lambda n: c.sorted_set_get_score(CACHE, n, "v")),
            ("sorted_set_get_rank", lambda n: c.sorted_set_get_rank(CACHE, n, "v")),
            ("sorted_set_put_element", lambda n: c.sorted_set_put_element(CACHE, n, "v", 2.0)),
            ("sorted_set_increment_score", lambda n: c.sorted_set_increment_score(CACHE, n, "v", 1.0)),
            ("sorted_set_remove_element", lambda n: c.sorted_set_remove_element(CACHE, n, "v")),
            ("SortedSetLength", lambda n: w.sorted_set_length(n)),
        ],
    }
    wrong = []
    for held, name in names.items():
        for kind, kind_ops in ops.items():
            if kind == held:
                continue
            for op_name, op in kind_ops:
                resp = op(name)
                if error_code(resp) != PRECONDITION:
                    wrong.append(f"{op_name} on a {held}: {resp!r}")
    assert not wrong, "expected FAILED_PRECONDITION:\n" + "\n".join(wrong)
    # Nothing changed.
    for kind, name in names.items():
        assert w.item_type(name) == kind
    assert c.get(CACHE, names["SCALAR"]).value_string == "7"
    assert c.dictionary_fetch(CACHE, names["DICTIONARY"]).value_dictionary_string_string == {"f": "1"}
    assert c.set_fetch(CACHE, names["SET"]).value_set_string == {"e"}
    assert c.list_fetch(CACHE, names["LIST"]).value_list_string == ["v"]
    assert fetch_bytes(c, names["SORTED_SET"]) == [(b"v", 1.0)]


# ============================================================================
# Bad input
# ============================================================================


def test_a_nan_score_is_invalid_argument_and_nothing_is_written(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    z = unique("zset")
    # The SDK sends a NaN (it only checks the type); the gateway refuses it.
    assert_error(c.sorted_set_put_element(CACHE, z, "x", NAN), INVALID)
    assert_error(c.sorted_set_put_elements(CACHE, z, {"ok": 1.0, "bad": NAN}), INVALID)
    assert_error(c.sorted_set_increment_score(CACHE, z, "x", NAN), INVALID)
    assert_ok(c.sorted_set_fetch_by_rank(CACHE, z), CacheSortedSetFetch.Miss)  # nothing half-written
    assert w.item_type(z) is MISSING

    c.sorted_set_put_elements(CACHE, z, {"a": 1.0})
    assert_error(c.sorted_set_put_elements(CACHE, z, {"b": 2.0, "c": NAN}), INVALID)
    assert_error(c.sorted_set_increment_score(CACHE, z, "a", NAN), INVALID)
    assert_error(c.sorted_set_put_element(CACHE, z, "a", math.inf), INVALID)
    assert_error(c.sorted_set_fetch_by_score(CACHE, z, min_score=NAN), INVALID)
    assert_error(c.sorted_set_fetch_by_score(CACHE, z, max_score=NAN), INVALID)
    assert_error(w.sorted_set_length_by_score(z, NAN), INVALID)
    assert_error(w.sorted_set_union_store(unique("zset"), [(z, NAN)]), INVALID)
    assert fetch_bytes(c, z) == [(b"a", 1.0)]


def test_an_empty_collection_name_is_refused_by_the_sdk(sg):
    c = sg.cache(sg.superuser)
    calls = {
        "dictionary_fetch": lambda: c.dictionary_fetch(CACHE, ""),
        "dictionary_get_field": lambda: c.dictionary_get_field(CACHE, "", "f"),
        "dictionary_get_fields": lambda: c.dictionary_get_fields(CACHE, "", ["f"]),
        "dictionary_increment": lambda: c.dictionary_increment(CACHE, "", "f"),
        "dictionary_remove_field": lambda: c.dictionary_remove_field(CACHE, "", "f"),
        "dictionary_remove_fields": lambda: c.dictionary_remove_fields(CACHE, "", ["f"]),
        "dictionary_set_field": lambda: c.dictionary_set_field(CACHE, "", "f", "v"),
        "dictionary_set_fields": lambda: c.dictionary_set_fields(CACHE, "", {"f": "v"}),
        "set_add_element": lambda: c.set_add_element(CACHE, "", "e"),
        "set_add_elements": lambda: c.set_add_elements(CACHE, "", ["e"]),
        "set_fetch": lambda: c.set_fetch(CACHE, ""),
        "set_remove_element": lambda: c.set_remove_element(CACHE, "", "e"),
        "set_remove_elements": lambda: c.set_remove_elements(CACHE, "", ["e"]),
        "list_concatenate_back": lambda: c.list_concatenate_back(CACHE, "", ["v"]),
        "list_concatenate_front": lambda: c.list_concatenate_front(CACHE, "", ["v"]),
        "list_fetch": lambda: c.list_fetch(CACHE, ""),
        "list_length": lambda: c.list_length(CACHE, ""),
        "list_pop_back": lambda: c.list_pop_back(CACHE, ""),
        "list_pop_front": lambda: c.list_pop_front(CACHE, ""),
        "list_push_back": lambda: c.list_push_back(CACHE, "", "v"),
        "list_push_front": lambda: c.list_push_front(CACHE, "", "v"),
        "list_remove_value": lambda: c.list_remove_value(CACHE, "", "v"),
        "sorted_set_put_element": lambda: c.sorted_set_put_element(CACHE, "", "v", 1.0),
        "sorted_set_put_elements": lambda: c.sorted_set_put_elements(CACHE, "", {"v": 1.0}),
        "sorted_set_fetch_by_rank": lambda: c.sorted_set_fetch_by_rank(CACHE, ""),
        "sorted_set_fetch_by_score": lambda: c.sorted_set_fetch_by_score(CACHE, ""),
        "sorted_set_get_score": lambda: c.sorted_set_get_score(CACHE, "", "v"),
        "sorted_set_get_scores": lambda: c.sorted_set_get_scores(CACHE, "", ["v"]),
        "sorted_set_get_rank": lambda: c.sorted_set_get_rank(CACHE, "", "v"),
        "sorted_set_increment_score": lambda: c.sorted_set_increment_score(CACHE, "", "v"),
        "sorted_set_remove_element": lambda: c.sorted_set_remove_element(CACHE, "", "v"),
        "sorted_set_remove_elements": lambda: c.sorted_set_remove_elements(CACHE, "", ["v"]),
    }
    for method, call in calls.items():
        resp = call()
        assert error_code(resp) == INVALID, (method, resp)
        assert "must not be empty" in resp.message, (method, resp.message)
        assert resp.inner_exception.transport_details is None, method  # never sent


def test_an_empty_collection_name_is_invalid_argument_from_the_gateway(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    ttl = {"ttl_milliseconds": 60_000, "refresh_ttl": True}
    requests = [
        (
            "DictionarySet",
            pb._DictionarySetRequest(
                dictionary_name=b"", items=[pb._DictionaryFieldValuePair(field=b"f", value=b"v")], **ttl
            ),
        ),
        ("DictionaryFetch", pb._DictionaryFetchRequest(dictionary_name=b"")),
        ("DictionaryIncrement", pb._DictionaryIncrementRequest(dictionary_name=b"", field=b"f", amount=1, **ttl)),
        ("DictionaryLength", pb._DictionaryLengthRequest(dictionary_name=b"")),
        ("SetUnion", pb._SetUnionRequest(set_name=b"", elements=[b"e"], **ttl)),
        ("SetFetch", pb._SetFetchRequest(set_name=b"")),
        ("SetLength", pb._SetLengthRequest(set_name=b"")),
        ("ListPushBack", pb._ListPushBackRequest(list_name=b"", value=b"v", **ttl)),
        ("ListLength", pb._ListLengthRequest(list_name=b"")),
        (
            "SortedSetPut",
            pb._SortedSetPutRequest(set_name=b"", elements=[pb._SortedSetElement(value=b"v", score=1.0)], **ttl),
        ),
        ("SortedSetLength", pb._SortedSetLengthRequest(set_name=b"")),
        ("ItemGetType", pb._ItemGetTypeRequest(cache_key=b"")),
    ]
    for rpc, request in requests:
        resp = w.call(rpc, request)
        assert error_code(resp) == INVALID, (rpc, resp)
        td = resp.inner_exception.transport_details
        assert td is not None and td.grpc.code == grpc.StatusCode.INVALID_ARGUMENT, (rpc, td)
    assert_error(w.sorted_set_union_store(b"", [(unique("zset"), 1.0)]), INVALID)
    assert_error(w.sorted_set_union_store(unique("zset"), [(b"", 1.0)]), INVALID)
