"""Collections (dictionaries, sets, lists, sorted sets) through momento 1.29.1.

Every collection method the Python SDK has is called here, with hits and
misses: a missing collection answers the SDK's Miss, never an error.

The SDK has gRPC stubs, but no method, for ItemGetTtl, ItemGetType,
DictionaryLength, SetContains, SetLength, SetSample, SetPop, ListFetch with a
range, ListRetain, SortedSetFetch with exclusive score bounds, SortedSetLength,
SortedSetLengthByScore and SortedSetUnionStore. `Wire` sends those through the
SDK's own stub and channel (its authorization interceptor, its `cache`
metadata, its deadline) and maps a gRPC error with the SDK's own
`convert_error`, so they are checked with the same error codes as the rest.

The SDK's `sorted_set_get_rank` reads only `element_rank`, so the gateway
answers a rank asked of a missing sorted set as an `element_rank` miss (not the
protocol's `missing`), and the SDK's own call shows it as a Miss.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Callable, Optional

import grpc
import pytest
from momento import CacheClient
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.errors import MomentoErrorCode, convert_error
from momento.internal.services import Service
from momento.internal.synchronous._utilities import make_metadata
from momento.requests import CollectionTtl, SortOrder
from momento.responses import (
    CacheDictionaryFetch,
    CacheDictionaryGetField,
    CacheDictionaryGetFields,
    CacheDictionaryIncrement,
    CacheDictionaryRemoveField,
    CacheDictionaryRemoveFields,
    CacheDictionarySetField,
    CacheDictionarySetFields,
    CacheDelete,
    CacheListConcatenateBack,
    CacheListConcatenateFront,
    CacheListFetch,
    CacheListLength,
    CacheListPopBack,
    CacheListPopFront,
    CacheListPushBack,
    CacheListPushFront,
    CacheListRemoveValue,
    CacheSetAddElement,
    CacheSetAddElements,
    CacheSetFetch,
    CacheSetRemoveElement,
    CacheSetRemoveElements,
    CacheSortedSetFetch,
    CacheSortedSetGetRank,
    CacheSortedSetGetScore,
    CacheSortedSetGetScores,
    CacheSortedSetIncrementScore,
    CacheSortedSetPutElement,
    CacheSortedSetPutElements,
    CacheSortedSetRemoveElement,
    CacheSortedSetRemoveElements,
)
from momento_wire_types import cacheclient_pb2 as pb
from momento_wire_types import common_pb2

from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, error_code, unique, wait_until

PERM = MomentoErrorCode.PERMISSION_ERROR
INVALID = MomentoErrorCode.INVALID_ARGUMENT_ERROR
PRECONDITION = MomentoErrorCode.FAILED_PRECONDITION_ERROR
ASC = SortOrder.ASCENDING
DESC = SortOrder.DESCENDING
NAN = float("nan")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
"""What `Wire` answers when the protocol says the collection (or item) is missing."""


class Wire:
    """The collection RPCs momento 1.29.1 has stubs for but no method (see the module docstring)."""

    class Error:
        """A gRPC error as the SDK converts it; `error_code()`/`assert_error` read it like an SDK `*.Error`."""

        def __init__(self, exc: Exception):
            self.inner_exception = convert_error(exc, Service.CACHE)
            self.error_code = self.inner_exception.error_code
            self.message = self.inner_exception.message

        def __repr__(self) -> str:
            return f"Wire.Error({self.error_code.name}: {self.message!r})"

    def __init__(self, client: CacheClient):
        self.client = client

    def call(self, rpc: str, request: object, cache: str = CACHE) -> object:
        data = self.client._data_client  # the SDK's data client: its stub, channel and deadline
        try:
            return getattr(data._build_stub(), rpc)(
                request, metadata=make_metadata(cache), timeout=data._default_deadline_seconds
            )
        except grpc.RpcError as e:
            return Wire.Error(e)

    @staticmethod
    def _found(resp: object, found: str = "found") -> object:
        """The `found` part of a found/missing answer, MISSING, or the error."""
        if isinstance(resp, Wire.Error):
            return resp
        if resp.HasField("missing"):  # type: ignore[attr-defined]
            return MISSING
        assert resp.HasField(found), f"neither {found} nor missing: {resp!r}"  # type: ignore[attr-defined]
        return getattr(resp, found)

    @staticmethod
    def _map(found: object, fn: Callable[[object], object]) -> object:
        return found if found is MISSING or isinstance(found, Wire.Error) else fn(found)

    # ----- items --------------------------------------------------------------
    def ttl_ms(self, key: str | bytes, cache: str = CACHE) -> object:
        resp = self.call("ItemGetTtl", pb._ItemGetTtlRequest(cache_key=_b(key)), cache)
        return self._map(self._found(resp), lambda f: f.remaining_ttl_millis)

    def item_type(self, key: str | bytes, cache: str = CACHE) -> object:
        resp = self.call("ItemGetType", pb._ItemGetTypeRequest(cache_key=_b(key)), cache)
        return self._map(self._found(resp), lambda f: pb._ItemGetTypeResponse.ItemType.Name(f.item_type))

    # ----- dictionaries, sets -------------------------------------------------
    def dictionary_length(self, name: str | bytes) -> object:
        resp = self.call("DictionaryLength", pb._DictionaryLengthRequest(dictionary_name=_b(name)))
        return self._map(self._found(resp), lambda f: f.length)

    def set_contains(self, name: str | bytes, elements: list) -> object:
        req = pb._SetContainsRequest(set_name=_b(name), elements=[_b(e) for e in elements])
        return self._map(self._found(self.call("SetContains", req)), lambda f: list(f.contains))

    def set_length(self, name: str | bytes) -> object:
        resp = self.call("SetLength", pb._SetLengthRequest(set_name=_b(name)))
        return self._map(self._found(resp), lambda f: f.length)

    def set_sample(self, name: str | bytes, limit: int) -> object:
        resp = self.call("SetSample", pb._SetSampleRequest(set_name=_b(name), limit=limit))
        return self._map(self._found(resp), lambda f: list(f.elements))

    def set_pop(self, name: str | bytes, count: int) -> object:
        resp = self.call("SetPop", pb._SetPopRequest(set_name=_b(name), count=count))
        return self._map(self._found(resp), lambda f: list(f.elements))

    # ----- lists --------------------------------------------------------------
    def list_fetch(self, name: str | bytes, start: Optional[int] = None, end: Optional[int] = None) -> object:
        req = pb._ListFetchRequest(list_name=_b(name))
        _list_range(req, start, end)
        return self._map(self._found(self.call("ListFetch", req)), lambda f: list(f.values))

    def list_retain(
        self,
        name: str | bytes,
        start: Optional[int] = None,
        end: Optional[int] = None,
        ttl_ms: int = 60_000,
        refresh: bool = True,
    ) -> object:
        req = pb._ListRetainRequest(list_name=_b(name), ttl_milliseconds=ttl_ms, refresh_ttl=refresh)
        _list_range(req, start, end)
        return self._map(self._found(self.call("ListRetain", req)), lambda f: f.list_length)

    # ----- sorted sets --------------------------------------------------------
    def sorted_set_length(self, name: str | bytes) -> object:
        resp = self.call("SortedSetLength", pb._SortedSetLengthRequest(set_name=_b(name)))
        return self._map(self._found(resp), lambda f: f.length)

    def sorted_set_length_by_score(
        self,
        name: str | bytes,
        min: Optional[float] = None,
        max: Optional[float] = None,
        min_exclusive: bool = False,
        max_exclusive: bool = False,
    ) -> object:
        req = pb._SortedSetLengthByScoreRequest(set_name=_b(name))
        if min is None:
            req.unbounded_min.CopyFrom(common_pb2._Unbounded())
        elif min_exclusive:
            req.exclusive_min = min
        else:
            req.inclusive_min = min
        if max is None:
            req.unbounded_max.CopyFrom(common_pb2._Unbounded())
        elif max_exclusive:
            req.exclusive_max = max
        else:
            req.inclusive_max = max
        return self._map(self._found(self.call("SortedSetLengthByScore", req)), lambda f: f.length)

    def sorted_set_fetch_by_score(
        self,
        name: str | bytes,
        min: Optional[float] = None,
        max: Optional[float] = None,
        min_exclusive: bool = False,
        max_exclusive: bool = False,
        descending: bool = False,
    ) -> object:
        req = pb._SortedSetFetchRequest(set_name=_b(name), with_scores=True)
        req.order = pb._SortedSetFetchRequest.DESCENDING if descending else pb._SortedSetFetchRequest.ASCENDING
        if min is None:
            req.by_score.unbounded_min.CopyFrom(common_pb2._Unbounded())
        else:
            req.by_score.min_score.score = min
            req.by_score.min_score.exclusive = min_exclusive
        if max is None:
            req.by_score.unbounded_max.CopyFrom(common_pb2._Unbounded())
        else:
            req.by_score.max_score.score = max
            req.by_score.max_score.exclusive = max_exclusive
        req.by_score.offset = 0
        req.by_score.count = -1
        return self._map(
            self._found(self.call("SortedSetFetch", req)),
            lambda f: [(e.value, e.score) for e in f.values_with_scores.elements],
        )

    def sorted_set_get_rank(self, name: str | bytes, value: str | bytes) -> object:
        """The rank, None for a value the sorted set does not hold, MISSING for a missing sorted set."""
        resp = self.call("SortedSetGetRank", pb._SortedSetGetRankRequest(set_name=_b(name), value=_b(value)))
        part = self._found(resp, "element_rank")
        if part is MISSING or isinstance(part, Wire.Error):
            return part
        return part.rank if part.result == pb.Hit else None  # type: ignore[attr-defined]

    def sorted_set_union_store(
        self, dest: str | bytes, sources: list[tuple[str | bytes, float]], aggregate: str = "SUM", ttl_ms: int = 60_000
    ) -> object:
        req = pb._SortedSetUnionStoreRequest(
            set_name=_b(dest),
            sources=[pb._SortedSetUnionStoreRequest._Source(set_name=_b(n), weight=w) for n, w in sources],
            aggregate=getattr(pb._SortedSetUnionStoreRequest, aggregate),
            ttl_milliseconds=ttl_ms,
        )
        resp = self.call("SortedSetUnionStore", req)
        return resp if isinstance(resp, Wire.Error) else resp.length  # type: ignore[attr-defined]


def _b(v: str | bytes) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else v


def _list_range(req, start: Optional[int], end: Optional[int]) -> None:
    if start is None:
        req.unbounded_start.CopyFrom(common_pb2._Unbounded())
    else:
        req.inclusive_start = start
    if end is None:
        req.unbounded_end.CopyFrom(common_pb2._Unbounded())
    else:
        req.exclusive_end = end


def assert_success(resp: object) -> None:
    """A write's `*.Success` (whatever the method's response class)."""
    assert error_code(resp) is None and type(resp).__name__ == "Success", f"expected Success, got {resp!r}"


def fetch_bytes(c: CacheClient, name: str) -> list[tuple[bytes, float]]:
    got = c.sorted_set_fetch_by_rank(CACHE, name)
    assert_ok(got, CacheSortedSetFetch.Hit)
    return got.value_list_bytes


# ============================================================================
# Dictionaries
# ============================================================================


def test_dictionary_set_fetch_and_get_fields_hit_and_a_missing_dictionary_misses(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    d = unique("dict")
    assert_ok(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
    assert_ok(c.dictionary_get_field(CACHE, d, "a"), CacheDictionaryGetField.Miss)
    assert_ok(c.dictionary_get_fields(CACHE, d, ["a", "b"]), CacheDictionaryGetFields.Miss)
    assert w.dictionary_length(d) is MISSING

    assert_ok(c.dictionary_set_fields(CACHE, d, {"a": "1", "b": "2"}), CacheDictionarySetFields.Success)
    assert_ok(c.dictionary_set_field(CACHE, d, b"\x00bin", b"\xff\x00"), CacheDictionarySetField.Success)
    assert_ok(c.dictionary_set_field(CACHE, d, "a", "one"), CacheDictionarySetField.Success)  # overwrites

    got = c.dictionary_fetch(CACHE, d)
    assert_ok(got, CacheDictionaryFetch.Hit)
    assert got.value_dictionary_bytes_bytes == {b"a": b"one", b"b": b"2", b"\x00bin": b"\xff\x00"}

    one = c.dictionary_get_field(CACHE, d, "b")
    assert_ok(one, CacheDictionaryGetField.Hit)
    assert (one.field_string, one.value_string) == ("b", "2")
    assert_ok(c.dictionary_get_field(CACHE, d, "absent"), CacheDictionaryGetField.Miss)

    many = c.dictionary_get_fields(CACHE, d, ["b", "absent", "a", b"\x00bin"])
    assert_ok(many, CacheDictionaryGetFields.Hit)
    assert [type(r) for r in many.responses] == [
        CacheDictionaryGetField.Hit,
        CacheDictionaryGetField.Miss,
        CacheDictionaryGetField.Hit,
        CacheDictionaryGetField.Hit,
    ]
    assert many.value_dictionary_bytes_bytes == {b"b": b"2", b"a": b"one", b"\x00bin": b"\xff\x00"}
    assert w.dictionary_length(d) == 3

    # Caches are separate namespaces for collections too.
    assert_ok(c.dictionary_fetch(OTHER_CACHE, d), CacheDictionaryFetch.Miss)


def test_dictionary_increment_counts_from_zero_and_stores_decimal_text(sg):
    c = sg.cache(sg.superuser)
    d = unique("dict")
    r = c.dictionary_increment(CACHE, d, "n")  # creates the dictionary and the field
    assert_ok(r, CacheDictionaryIncrement.Success)
    assert r.value == 1
    assert c.dictionary_increment(CACHE, d, "n", 41).value == 42
    assert c.dictionary_increment(CACHE, d, "n", -50).value == -8
    assert c.dictionary_increment(CACHE, d, "n", 0).value == -8
    assert c.dictionary_get_field(CACHE, d, "n").value_string == "-8"
    c.dictionary_set_field(CACHE, d, "t", "10")
    assert c.dictionary_increment(CACHE, d, "t", 5).value == 15
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"n": "-8", "t": "15"}


def test_dictionary_increment_of_a_non_integer_field_is_failed_precondition(sg):
    c = sg.cache(sg.superuser)
    d = unique("dict")
    c.dictionary_set_fields(CACHE, d, {"s": "not a number", "f": "1.5"})
    assert_error(c.dictionary_increment(CACHE, d, "s", 1), PRECONDITION)
    assert_error(c.dictionary_increment(CACHE, d, "f", 1), PRECONDITION)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"s": "not a number", "f": "1.5"}


def test_dictionary_remove_fields_and_removing_the_last_field_deletes_the_dictionary(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    d = unique("dict")
    c.dictionary_set_fields(CACHE, d, {"a": "1", "b": "2", "c": "3"})
    assert_ok(c.dictionary_remove_field(CACHE, d, "a"), CacheDictionaryRemoveField.Success)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"b": "2", "c": "3"}
    assert_ok(c.dictionary_remove_fields(CACHE, d, ["b", "absent"]), CacheDictionaryRemoveFields.Success)
    assert c.dictionary_fetch(CACHE, d).value_dictionary_string_string == {"c": "3"}
    assert_ok(c.dictionary_remove_field(CACHE, d, "c"), CacheDictionaryRemoveField.Success)
    assert_ok(c.dictionary_fetch(CACHE, d), CacheDictionaryFetch.Miss)
    assert w.dictionary_length(d) is MISSING
    assert w.item_type(d) is MISSING
    # Removing from a missing dictionary succeeds and creates nothing.
    assert_ok(c.dictionary_remove_fields(CACHE, d, ["x"]), CacheDictionaryRemoveFields.Success)
    assert_ok(c.dictionary_remove_field(CACHE, d, "x"), CacheDictionaryRemoveField.Success)
    assert w.item_type(d) is MISSING


# ============================================================================
# Sets
# ============================================================================


def test_set_add_fetch_remove_and_removing_the_last_element_deletes_the_set(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    s = unique("set")
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)
    assert_ok(c.set_add_element(CACHE, s, "a"), CacheSetAddElement.Success)
    assert_ok(c.set_add_elements(CACHE, s, ["b", "c", "a", b"\xff\x00"]), CacheSetAddElements.Success)
    got = c.set_fetch(CACHE, s)
    assert_ok(got, CacheSetFetch.Hit)
    assert got.value_set_bytes == {b"a", b"b", b"c", b"\xff\x00"}  # "a" once
    assert_ok(c.set_remove_element(CACHE, s, "a"), CacheSetRemoveElement.Success)
    assert_ok(c.set_remove_elements(CACHE, s, ["b", "absent"]), CacheSetRemoveElements.Success)
    assert c.set_fetch(CACHE, s).value_set_bytes == {b"c", b"\xff\x00"}
    assert_ok(c.set_remove_elements(CACHE, s, ["c", b"\xff\x00"]), CacheSetRemoveElements.Success)
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)
    assert w.item_type(s) is MISSING
    assert_ok(c.set_remove_element(CACHE, s, "c"), CacheSetRemoveElement.Success)
    assert_ok(c.set_remove_elements(CACHE, s, ["c"]), CacheSetRemoveElements.Success)
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)


def test_set_contains_length_sample_and_pop_on_the_wire(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    s = unique("set")
    for probe in (w.set_contains(s, ["a"]), w.set_length(s), w.set_sample(s, 3), w.set_pop(s, 1)):
        assert probe is MISSING
    everything = {b"a", b"b", b"c", b"d", b"e"}
    c.set_add_elements(CACHE, s, sorted(everything))
    assert w.set_contains(s, ["a", "absent", "e"]) == [True, False, True]
    assert w.set_length(s) == 5

    sample = w.set_sample(s, 2)
    assert len(sample) == 2 and len(set(sample)) == 2 and set(sample) <= everything
    assert set(w.set_sample(s, 10)) == everything and len(w.set_sample(s, 10)) == 5
    assert w.set_length(s) == 5  # sampling removes nothing

    popped = w.set_pop(s, 2)
    assert len(popped) == 2 and len(set(popped)) == 2 and set(popped) <= everything
    rest = everything - set(popped)
    assert c.set_fetch(CACHE, s).value_set_bytes == rest
    assert w.set_length(s) == 3
    assert set(w.set_pop(s, 10)) == rest
    assert_ok(c.set_fetch(CACHE, s), CacheSetFetch.Miss)  # popping the last deletes the set
    assert w.set_pop(s, 1) is MISSING


# ============================================================================
# Lists
# ============================================================================


def test_list_push_concatenate_fetch_length_pop_and_remove(sg):
    c = sg.cache(sg.superuser)
    lst = unique("list")
    assert_ok(c.list_fetch(CACHE, lst), CacheListFetch.Miss)
    assert_ok(c.list_length(CACHE, lst), CacheListLength.Miss)
    assert_ok(c.list_pop_back(CACHE, lst), CacheListPopBack.Miss)
    assert_ok(c.list_pop_front(CACHE, lst), CacheListPopFront.Miss)

    r = c.list_concatenate_back(CACHE, lst, ["c", "d"])
    assert_ok(r, CacheListConcatenateBack.Success)
    assert r.list_length == 2
    r = c.list_concatenate_front(CACHE, lst, ["a", "b"])
    assert_ok(r, CacheListConcatenateFront.Success)
    assert r.list_length == 4
    r = c.list_push_back(CACHE, lst, "e")
    assert_ok(r, CacheListPushBack.Success)
    assert r.list_length == 5
    r = c.list_push_front(CACHE, lst, b"\x00_")
    assert_ok(r, CacheListPushFront.Success)
    assert r.list_length == 6

    got = c.list_fetch(CACHE, lst)
    assert_ok(got, CacheListFetch.Hit)
    assert got.value_list_bytes == [b"\x00_", b"a", b"b", b"c", b"d", b"e"]
    length = c.list_length(CACHE, lst)
    assert_ok(length, CacheListLength.Hit)
    assert length.length == 6

    front = c.list_pop_front(CACHE, lst)
    assert_ok(front, CacheListPopFront.Hit)
    assert front.value_bytes == b"\x00_"
    back = c.list_pop_back(CACHE, lst)
    assert_ok(back, CacheListPopBack.Hit)
    assert back.value_string == "e"

    c.list_concatenate_back(CACHE, lst, ["a", "b", "a"])
    assert c.list_fetch(CACHE, lst).value_list_string == ["a", "b", "c", "d", "a", "b", "a"]
    assert_ok(c.list_remove_value(CACHE, lst, "a"), CacheListRemoveValue.Success)  # every occurrence
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "d", "b"]
    assert_ok(c.list_remove_value(CACHE, lst, "absent"), CacheListRemoveValue.Success)
    assert c.list_length(CACHE, lst).length == 4


def test_removing_or_popping_a_lists_last_values_deletes_the_list(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    popped, removed = unique("list"), unique("list")
    c.list_concatenate_back(CACHE, popped, ["x", "y"])
    assert c.list_pop_back(CACHE, popped).value_string == "y"
    assert c.list_pop_front(CACHE, popped).value_string == "x"
    assert_ok(c.list_pop_front(CACHE, popped), CacheListPopFront.Miss)
    assert_ok(c.list_fetch(CACHE, popped), CacheListFetch.Miss)
    assert_ok(c.list_length(CACHE, popped), CacheListLength.Miss)
    assert w.item_type(popped) is MISSING

    c.list_concatenate_back(CACHE, removed, ["v", "v", "v"])
    assert_ok(c.list_remove_value(CACHE, removed, "v"), CacheListRemoveValue.Success)
    assert_ok(c.list_fetch(CACHE, removed), CacheListFetch.Miss)
    assert w.item_type(removed) is MISSING
    assert_ok(c.list_remove_value(CACHE, removed, "v"), CacheListRemoveValue.Success)  # on a missing list
    assert w.item_type(removed) is MISSING


def test_list_ranges_are_start_inclusive_end_exclusive_and_negative_from_the_end(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    lst = unique("list")
    assert w.list_fetch(lst, 0, 2) is MISSING
    c.list_concatenate_back(CACHE, lst, list("abcdef"))

    def fetch(start, end):
        got = w.list_fetch(lst, start, end)
        assert isinstance(got, list), got
        return b"".join(got).decode()

    assert fetch(None, None) == "abcdef"
    assert fetch(0, 1) == "a"
    assert fetch(1, 4) == "bcd"
    assert fetch(-3, None) == "def"
    assert fetch(None, -2) == "abcd"
    assert fetch(-4, -1) == "cde"
    assert fetch(2, 100) == "cdef"  # clamped to the list
    assert fetch(-100, 2) == "ab"


def test_list_retain_keeps_a_range_and_an_empty_range_deletes_the_list(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    lst = unique("list")
    assert w.list_retain(lst, 0, 1) is MISSING
    assert w.item_type(lst) is MISSING  # retain creates nothing
    c.list_concatenate_back(CACHE, lst, list("abcdef"))
    assert w.list_retain(lst, 1, -1) == 4
    assert c.list_fetch(CACHE, lst).value_list_string == list("bcde")
    assert w.list_retain(lst, -2, None) == 2
    assert c.list_fetch(CACHE, lst).value_list_string == list("de")
    assert w.list_retain(lst, 5, None) == 0
    assert_ok(c.list_fetch(CACHE, lst), CacheListFetch.Miss)
    assert w.item_type(lst) is MISSING


def test_list_truncation_drops_from_the_opposite_end(sg):
    c = sg.cache(sg.superuser)
    lst = unique("list")
    c.list_concatenate_back(CACHE, lst, ["a", "b", "c"])
    r = c.list_push_back(CACHE, lst, "d", truncate_front_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "d"]
    r = c.list_push_front(CACHE, lst, "z", truncate_back_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["z", "b", "c"]
    r = c.list_concatenate_back(CACHE, lst, ["x", "y"], truncate_front_to_size=4)
    assert r.list_length == 4
    assert c.list_fetch(CACHE, lst).value_list_string == ["b", "c", "x", "y"]
    r = c.list_concatenate_front(CACHE, lst, ["p", "q"], truncate_back_to_size=3)
    assert r.list_length == 3
    assert c.list_fetch(CACHE, lst).value_list_string == ["p", "q", "b"]
    # A size the list is within changes nothing.
    r = c.list_push_back(CACHE, lst, "r", truncate_front_to_size=10)
    assert r.list_length == 4
    assert c.list_fetch(CACHE, lst).value_list_string == ["p", "q", "b", "r"]
    # Truncation on a new list: the pushed values are trimmed too.
    fresh = unique("list")
    r = c.list_concatenate_back(CACHE, fresh, ["1", "2", "3", "4"], truncate_front_to_size=2)
    assert r.list_length == 2
    assert c.list_fetch(CACHE, fresh).value_list_string == ["3", "4"]


# ============================================================================
# Sorted sets
# ============================================================================

TIES = {"carol": 3.0, "bob": 2.0, "alice": 2.0, "dave": -1.5, b"\xffz": 2.0, b"Bob": 2.0}
# Ascending: by score, ties by value bytes (unsigned): "Bob" < "alice" < "bob" < b"\xffz".
TIES_ASC = [(b"dave", -1.5), (b"Bob", 2.0), (b"alice", 2.0), (b"bob", 2.0), (b"\xffz", 2.0), (b"carol", 3.0)]


def test_sorted_set_fetch_by_rank_orders_ties_by_value_and_descending_is_the_exact_reverse(sg):
    c = sg.cache(sg.superuser)
    z = unique("zset")
    assert_ok(c.sorted_set_fetch_by_rank(CACHE, z), CacheSortedSetFetch.Miss)
    assert_ok(c.sorted_set_put_elements(CACHE, z, TIES), CacheSortedSetPutElements.Success)
    assert fetch_bytes(c, z) == TIES_ASC
    desc = c.sorted_set_fetch_by_rank(CACHE, z, sort_order=DESC)
    assert_ok(desc, CacheSortedSetFetch.Hit)
    assert desc.value_list_bytes == TIES_ASC[::-1]

    assert c.sorted_set_fetch_by_rank(CACHE, z, 1, 3).value_list_bytes == TIES_ASC[1:3]
    assert c.sorted_set_fetch_by_rank(CACHE, z, 0, 2, DESC).value_list_bytes == TIES_ASC[::-1][0:2]
    assert c.sorted_set_fetch_by_rank(CACHE, z, -2).value_list_bytes == TIES_ASC[-2:]
    assert c.sorted_set_fetch_by_rank(CACHE, z, None, -4).value_list_bytes == TIES_ASC[:-4]
    assert c.sorted_set_fetch_by_rank(CACHE, z, 4, 100).value_list_bytes == TIES_ASC[4:]

    # Putting an existing value replaces its score.
    assert_ok(c.sorted_set_put_element(CACHE, z, "dave", 10.0), CacheSortedSetPutElement.Success)
    assert fetch_bytes(c, z) == TIES_ASC[1:] + [(b"dave", 10.0)]


def test_sorted_set_fetch_by_score_bounds_offset_count_and_order(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    z = unique("zset")
    assert_ok(c.sorted_set_fetch_by_score(CACHE, z), CacheSortedSetFetch.Miss)
    assert w.sorted_set_fetch_by_score(z, 1.0, 2.0) is MISSING
    c.sorted_set_put_elements(CACHE, z, {"a": 1.0, "b": 2.0, "c": 2.0, "d": 3.0, "e": 4.5})

    def names(resp) -> str:
        assert_ok(resp, CacheSortedSetFetch.Hit)
        return "".join(v for v, _ in resp.value_list_string)

    # The SDK's bounds are inclusive.
    assert names(c.sorted_set_fetch_by_score(CACHE, z)) == "abcde"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, 2.0, 3.0)) == "bcd"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, min_score=2.0)) == "bcde"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, max_score=2.0)) == "abc"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, 2.0, 3.0, DESC)) == "dcb"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, offset=1, count=2)) == "bc"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, sort_order=DESC, offset=1, count=2)) == "dc"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, 1.5, 4.0, offset=1)) == "cd"
    assert names(c.sorted_set_fetch_by_score(CACHE, z, min_score=5.0)) == ""  # an empty range of a set: Hit, []
    got = c.sorted_set_fetch_by_score(CACHE, z, 4.5, 4.5)
    assert got.value_list_string == [("e", 4.5)]

    # Exclusive bounds (on the wire: the SDK sends inclusive ones only).
    def wire(*args, **kw) -> str:
        got = w.sorted_set_fetch_by_score(z, *args, **kw)
        assert isinstance(got, list), got
        return "".join(v.decode() for v, _ in got)

    assert wire(2.0, None, min_exclusive=True) == "de"
    assert wire(2.0, 3.0, max_exclusive=True) == "bc"
    assert wire(1.0, 4.5, min_exclusive=True, max_exclusive=True) == "bcd"
    assert wire(1.0, 4.5) == "abcde"
    assert wire(2.0, 3.0, min_exclusive=True, descending=True) == "d"


def test_sorted_set_scores_ranks_and_increments(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    z = unique("zset")
    assert_ok(c.sorted_set_get_score(CACHE, z, "a"), CacheSortedSetGetScore.Miss)
    assert_ok(c.sorted_set_get_scores(CACHE, z, ["a", "b"]), CacheSortedSetGetScores.Miss)
    assert_ok(c.sorted_set_get_rank(CACHE, z, "a"), CacheSortedSetGetRank.Miss)
    assert w.sorted_set_get_rank(z, "a") is None
    c.sorted_set_put_elements(CACHE, z, {"a": 1.0, "b": 2.0, "c": 3.0})

    score = c.sorted_set_get_score(CACHE, z, "b")
    assert_ok(score, CacheSortedSetGetScore.Hit)
    assert (score.value_string, score.score) == ("b", 2.0)
    assert_ok(c.sorted_set_get_score(CACHE, z, "absent"), CacheSortedSetGetScore.Miss)
    scores = c.sorted_set_get_scores(CACHE, z, ["a", "absent", "c"])
    assert_ok(scores, CacheSortedSetGetScores.Hit)
    assert [type(r) for r in scores.responses] == [
        CacheSortedSetGetScore.Hit,
        CacheSortedSetGetScore.Miss,
        CacheSortedSetGetScore.Hit,
    ]
    assert scores.value_dictionary_string == {"a": 1.0, "c": 3.0}

    rank = c.sorted_set_get_rank(CACHE, z, "a")
    assert_ok(rank, CacheSortedSetGetRank.Hit)
    assert rank.rank == 0
    assert c.sorted_set_get_rank(CACHE, z, "c").rank == 2
    assert c.sorted_set_get_rank(CACHE, z, "c", DESC).rank == 0
    assert c.sorted_set_get_rank(CACHE, z, "a", DESC).rank == 2
    assert_ok(c.sorted_set_get_rank(CACHE, z, "absent"), CacheSortedSetGetRank.Miss)
    assert w.sorted_set_get_rank(z, "absent") is None
    assert w.sorted_set_get_rank(z, "b") == 1

    inc = c.sorted_set_increment_score(CACHE, z, "a", 10.5)
    assert_ok(inc, CacheSortedSetIncrementScore.Success)
    assert inc.score == 11.5
    assert c.sorted_set_get_rank(CACHE, z, "a").rank == 2
    assert c.sorted_set_increment_score(CACHE, z, "a", -0.25).score == 11.25
    assert c.sorted_set_increment_score(CACHE, z, "new").score == 1.0  # a new value starts at 0
    assert fetch_bytes(c, z) == [(b"new", 1.0), (b"b", 2.0), (b"c", 3.0), (b"a", 11.25)]

    # Incrementing in a missing sorted set creates it.
    fresh = unique("zset")
    assert c.sorted_set_increment_score(CACHE, fresh, "x", 2.5).score == 2.5
    assert fetch_bytes(c, fresh) == [(b"x", 2.5)]
    assert w.item_type(fresh) == "SORTED_SET"


def test_sorted_set_remove_lengths_and_removing_the_last_element_deletes_it(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    z = unique("zset")
    assert w.sorted_set_length(z) is MISSING
    assert w.sorted_set_length_by_score(z, 1.0, 2.0) is MISSING
    c.sorted_set_put_elements(CACHE, z, {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0})
    assert w.sorted_set_length(z) == 4
    assert w.sorted_set_length_by_score(z) == 4
    assert w.sorted_set_length_by_score(z, 2.0, 3.0) == 2
    assert w.sorted_set_length_by_score(z, 2.0, None, min_exclusive=True) == 2
    assert w.sorted_set_length_by_score(z, None, 4.0, max_exclusive=True) == 3
    assert w.sorted_set_length_by_score(z, 1.0, 4.0, True, True) == 2
    assert w.sorted_set_length_by_score(z, 10.0) == 0

    assert_ok(c.sorted_set_remove_element(CACHE, z, "a"), CacheSortedSetRemoveElement.Success)
    assert_ok(c.sorted_set_remove_elements(CACHE, z, ["b", "absent"]), CacheSortedSetRemoveElements.Success)
    assert fetch_bytes(c, z) == [(b"c", 3.0), (b"d", 4.0)]
    assert w.sorted_set_length(z) == 2
    assert_ok(c.sorted_set_remove_elements(CACHE, z, ["c", "d"]), CacheSortedSetRemoveElements.Success)
    assert_ok(c.sorted_set_fetch_by_rank(CACHE, z), CacheSortedSetFetch.Miss)
    assert_ok(c.sorted_set_fetch_by_score(CACHE, z), CacheSortedSetFetch.Miss)
    assert w.sorted_set_length(z) is MISSING
    assert w.item_type(z) is MISSING
    assert_ok(c.sorted_set_remove_element(CACHE, z, "c"), CacheSortedSetRemoveElement.Success)
    assert_ok(c.sorted_set_remove_elements(CACHE, z, ["c"]), CacheSortedSetRemoveElements.Success)
    assert w.item_type(z) is MISSING


def test_sorted_set_union_store_weights_and_aggregates_on_the_wire(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    z1, z2, dest = unique("zset"), unique("zset"), unique("zset")
    c.sorted_set_put_elements(CACHE, z1, {"a": 1.0, "b": 2.0})
    c.sorted_set_put_elements(CACHE, z2, {"b": 3.0, "c": 4.0})
    c.sorted_set_put_element(CACHE, dest, "stale", 1.0)
    sources = [(z1, 1.0), (z2, 2.0), (unique("absent"), 5.0)]

    assert w.sorted_set_union_store(dest, sources) == 3  # SUM: the destination is replaced
    assert fetch_bytes(c, dest) == [(b"a", 1.0), (b"b", 8.0), (b"c", 8.0)]
    assert w.sorted_set_union_store(dest, sources, "MIN") == 3
    assert fetch_bytes(c, dest) == [(b"a", 1.0), (b"b", 2.0), (b"c", 8.0)]
    assert w.sorted_set_union_store(dest, sources, "MAX", ttl_ms=30_000) == 3
    assert fetch_bytes(c, dest) == [(b"a", 1.0), (b"b", 6.0), (b"c", 8.0)]
    ttl = w.ttl_ms(dest)
    assert isinstance(ttl, int) and 20_000 < ttl <= 30_000, ttl
    # The sources are untouched.
    assert fetch_bytes(c, z1) == [(b"a", 1.0), (b"b", 2.0)]
    # A union of nothing leaves no destination.
    assert w.sorted_set_union_store(dest, [(unique("absent"), 1.0)]) == 0
    assert_ok(c.sorted_set_fetch_by_rank(CACHE, dest), CacheSortedSetFetch.Miss)


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


def test_item_get_type_names_each_kind_and_delete_removes_a_collection(sg):
    c = sg.cache(sg.superuser)
    w = Wire(c)
    names = {kind: unique(kind.lower()) for kind in ("SCALAR", "DICTIONARY", "SET", "LIST", "SORTED_SET")}
    c.set(CACHE, names["SCALAR"], "v")
    c.dictionary_set_field(CACHE, names["DICTIONARY"], "f", "v")
    c.set_add_element(CACHE, names["SET"], "e")
    c.list_push_back(CACHE, names["LIST"], "v")
    c.sorted_set_put_element(CACHE, names["SORTED_SET"], "v", 1.0)
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
    names = {kind: unique(kind.lower()) for kind in ("SCALAR", "DICTIONARY", "SET", "LIST", "SORTED_SET")}
    c.set(CACHE, names["SCALAR"], "7")
    c.dictionary_set_field(CACHE, names["DICTIONARY"], "f", "1")
    c.set_add_element(CACHE, names["SET"], "e")
    c.list_push_back(CACHE, names["LIST"], "v")
    c.sorted_set_put_element(CACHE, names["SORTED_SET"], "v", 1.0)
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
# Denials
# ============================================================================


def _seed(c: CacheClient, prefix: str = "") -> dict[str, str]:
    names = {k: prefix + unique(k) for k in ("dict", "set", "list", "zset")}
    c.dictionary_set_fields(CACHE, names["dict"], {"f": "1", "n": "5"})
    c.set_add_elements(CACHE, names["set"], ["a", "b"])
    c.list_concatenate_back(CACHE, names["list"], ["x", "y"])
    c.sorted_set_put_elements(CACHE, names["zset"], {"a": 1.0, "b": 2.0})
    return names


def _snapshot(c: CacheClient, n: dict[str, str]) -> tuple:
    return (
        c.dictionary_fetch(CACHE, n["dict"]).value_dictionary_bytes_bytes,
        c.set_fetch(CACHE, n["set"]).value_set_bytes,
        c.list_fetch(CACHE, n["list"]).value_list_bytes,
        fetch_bytes(c, n["zset"]),
    )


def _writes(c: CacheClient, w: Wire, n: dict[str, str]) -> list[tuple[str, object]]:
    """Every collection write of the Write class (a list has none: its writes all read too)."""
    d, s, z = n["dict"], n["set"], n["zset"]
    return [
        ("dictionary_set_field", c.dictionary_set_field(CACHE, d, "f", "w")),
        ("dictionary_set_fields", c.dictionary_set_fields(CACHE, d, {"g": "w"})),
        ("dictionary_remove_field", c.dictionary_remove_field(CACHE, d, "f")),
        ("dictionary_remove_fields", c.dictionary_remove_fields(CACHE, d, ["f"])),
        ("set_add_element", c.set_add_element(CACHE, s, "c")),
        ("set_add_elements", c.set_add_elements(CACHE, s, ["c"])),
        ("set_remove_element", c.set_remove_element(CACHE, s, "a")),
        ("set_remove_elements", c.set_remove_elements(CACHE, s, ["a"])),
        ("sorted_set_put_element", c.sorted_set_put_element(CACHE, z, "c", 3.0)),
        ("sorted_set_put_elements", c.sorted_set_put_elements(CACHE, z, {"c": 3.0})),
        ("sorted_set_remove_element", c.sorted_set_remove_element(CACHE, z, "a")),
        ("sorted_set_remove_elements", c.sorted_set_remove_elements(CACHE, z, ["a"])),
    ]


def _read_writes(c: CacheClient, w: Wire, n: dict[str, str]) -> list[tuple[str, object]]:
    """Every collection operation that reads and writes (the ReadWrite class)."""
    d, s, lst, z = n["dict"], n["set"], n["list"], n["zset"]
    return [
        ("dictionary_increment", c.dictionary_increment(CACHE, d, "n", 1)),
        ("sorted_set_increment_score", c.sorted_set_increment_score(CACHE, z, "a", 1.0)),
        ("list_push_back", c.list_push_back(CACHE, lst, "z")),
        ("list_push_front", c.list_push_front(CACHE, lst, "z")),
        ("list_concatenate_back", c.list_concatenate_back(CACHE, lst, ["z"])),
        ("list_concatenate_front", c.list_concatenate_front(CACHE, lst, ["z"])),
        ("list_pop_back", c.list_pop_back(CACHE, lst)),
        ("list_pop_front", c.list_pop_front(CACHE, lst)),
        ("list_remove_value", c.list_remove_value(CACHE, lst, "x")),
        ("ListRetain", w.list_retain(lst, 0, 1)),
        ("SetPop", w.set_pop(s, 1)),
        ("SortedSetUnionStore", w.sorted_set_union_store(z, [(z, 1.0)])),
    ]


def _reads(c: CacheClient, w: Wire, n: dict[str, str]) -> list[tuple[str, object]]:
    d, s, lst, z = n["dict"], n["set"], n["list"], n["zset"]
    return [
        ("dictionary_fetch", c.dictionary_fetch(CACHE, d)),
        ("dictionary_get_field", c.dictionary_get_field(CACHE, d, "f")),
        ("dictionary_get_fields", c.dictionary_get_fields(CACHE, d, ["f"])),
        ("set_fetch", c.set_fetch(CACHE, s)),
        ("list_fetch", c.list_fetch(CACHE, lst)),
        ("list_length", c.list_length(CACHE, lst)),
        ("sorted_set_fetch_by_rank", c.sorted_set_fetch_by_rank(CACHE, z)),
        ("sorted_set_fetch_by_score", c.sorted_set_fetch_by_score(CACHE, z)),
        ("sorted_set_get_score", c.sorted_set_get_score(CACHE, z, "a")),
        ("sorted_set_get_scores", c.sorted_set_get_scores(CACHE, z, ["a"])),
        ("sorted_set_get_rank", c.sorted_set_get_rank(CACHE, z, "a")),
        ("DictionaryLength", w.dictionary_length(d)),
        ("SetContains", w.set_contains(s, ["a"])),
        ("SetLength", w.set_length(s)),
        ("SetSample", w.set_sample(s, 1)),
        ("ListFetch", w.list_fetch(lst, 0, 1)),
        ("SortedSetLength", w.sorted_set_length(z)),
        ("SortedSetLengthByScore", w.sorted_set_length_by_score(z)),
        ("ItemGetType", w.item_type(d)),
        ("ItemGetTtl", w.ttl_ms(s)),
    ]


def _not_denied(results: list[tuple[str, object]]) -> list[str]:
    return [f"{op}: {resp!r}" for op, resp in results if error_code(resp) != PERM]


def _denied(results: list[tuple[str, object]]) -> list[str]:
    return [f"{op}: {resp!r}" for op, resp in results if error_code(resp) is not None]


def test_a_readonly_token_reads_collections_but_cannot_write_or_increment(sg):
    su = sg.cache(sg.superuser)
    n = _seed(su)
    before = _snapshot(su, n)
    ro = sg.cache(sg.mint(S.cache_read_only(CACHE)))
    w = Wire(ro)
    reads = _reads(ro, w, n)
    assert not _denied(reads), _denied(reads)
    assert ro.dictionary_fetch(CACHE, n["dict"]).value_dictionary_string_string == {"f": "1", "n": "5"}
    assert ro.list_fetch(CACHE, n["list"]).value_list_string == ["x", "y"]
    assert_ok(ro.set_fetch(CACHE, unique("absent")), CacheSetFetch.Miss)  # reading a missing one is a Miss
    writes = _writes(ro, w, n) + _read_writes(ro, w, n)
    assert not _not_denied(writes), "expected PERMISSION_ERROR:\n" + "\n".join(_not_denied(writes))
    assert _snapshot(su, n) == before


def test_a_writeonly_token_writes_collections_but_cannot_fetch_pop_or_increment(sg):
    su = sg.cache(sg.superuser)
    n = _seed(su)
    wo = sg.cache(sg.mint(S.cache_write_only(CACHE)))
    w = Wire(wo)
    writes = _writes(wo, w, n)
    assert not _denied(writes), _denied(writes)
    # The writes landed.
    assert su.dictionary_fetch(CACHE, n["dict"]).value_dictionary_string_string == {"g": "w", "n": "5"}
    assert su.set_fetch(CACHE, n["set"]).value_set_string == {"b", "c"}
    assert fetch_bytes(su, n["zset"]) == [(b"b", 2.0), (b"c", 3.0)]
    before = _snapshot(su, n)
    denied = _reads(wo, w, n) + _read_writes(wo, w, n)
    assert not _not_denied(denied), "expected PERMISSION_ERROR:\n" + "\n".join(_not_denied(denied))
    # A missing collection is a permission error too, never a Miss.
    assert_error(wo.set_fetch(CACHE, unique("absent")), PERM)
    assert_error(wo.list_pop_front(CACHE, unique("absent")), PERM)
    assert _snapshot(su, n) == before


def test_a_key_prefix_token_applies_to_collection_names(sg):
    su = sg.cache(sg.superuser)
    prefix = unique("p") + "/"
    inside = _seed(su, prefix)
    outside = _seed(su, "x" + prefix)  # a name that merely contains the prefix
    rw = sg.cache(sg.mint(S.cache_key_prefix_read_write(CACHE, prefix)))
    w = Wire(rw)
    allowed = _reads(rw, w, inside) + _writes(rw, w, inside) + _read_writes(rw, w, inside)
    assert not _denied(allowed), _denied(allowed)
    # Fields, elements and values are not keys: any bytes are fine inside the collection.
    assert_ok(rw.dictionary_set_field(CACHE, inside["dict"], "not/" + prefix, "v"), CacheDictionarySetField.Success)
    assert_ok(rw.dictionary_fetch(CACHE, prefix + unique("absent")), CacheDictionaryFetch.Miss)
    before = _snapshot(su, outside)
    denied = _reads(rw, w, outside) + _writes(rw, w, outside) + _read_writes(rw, w, outside)
    assert not _not_denied(denied), "expected PERMISSION_ERROR:\n" + "\n".join(_not_denied(denied))
    assert _snapshot(su, outside) == before
    # Outside the prefix, missing collections are denied (never a Miss); other caches too.
    assert_error(rw.dictionary_fetch(CACHE, prefix[:-1]), PERM)
    assert_error(rw.list_push_back(CACHE, unique("q"), "v"), PERM)
    assert_error(rw.set_fetch(OTHER_CACHE, inside["set"]), PERM)
    # UnionStore: read-write on the destination, read on every source.
    stored = w.sorted_set_union_store(prefix + unique("u"), [(inside["zset"], 1.0)])
    assert stored == len(fetch_bytes(su, inside["zset"])), stored
    assert_error(w.sorted_set_union_store(prefix + unique("u"), [(inside["zset"], 1.0), (outside["zset"], 1.0)]), PERM)
    assert_error(w.sorted_set_union_store("x" + prefix + unique("u"), [(inside["zset"], 1.0)]), PERM)

    # A read-only prefix token reads inside its prefix and writes nowhere.
    ro = sg.cache(sg.mint(S.cache_key_prefix_read_only(CACHE, prefix)))
    seen = ro.list_fetch(CACHE, inside["list"])
    assert_ok(seen, CacheListFetch.Hit)
    assert seen.value_list_bytes == su.list_fetch(CACHE, inside["list"]).value_list_bytes
    assert_error(ro.list_fetch(CACHE, outside["list"]), PERM)
    assert_error(ro.list_push_back(CACHE, inside["list"], "v"), PERM)
    assert_error(ro.dictionary_set_field(CACHE, inside["dict"], "f", "v"), PERM)


def test_a_single_key_token_reaches_only_the_collection_it_names(sg):
    su = sg.cache(sg.superuser)
    n = _seed(su)
    only = sg.cache(sg.mint(S.cache_key_read_write(CACHE, n["zset"])))
    assert fetch_bytes(only, n["zset"]) == [(b"a", 1.0), (b"b", 2.0)]
    assert only.sorted_set_increment_score(CACHE, n["zset"], "a", 5.0).score == 6.0
    assert_error(only.sorted_set_fetch_by_rank(CACHE, n["zset"] + "x"), PERM)
    assert_error(only.dictionary_fetch(CACHE, n["dict"]), PERM)
    assert_error(only.list_pop_back(CACHE, n["list"]), PERM)
    assert_error(Wire(only).sorted_set_union_store(n["zset"], [(n["zset"] + "x", 1.0)]), PERM)


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
