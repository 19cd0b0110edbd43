"""Collections (dictionaries, sets, lists, sorted sets) through momento 1.29.1.

Every collection method the Python SDK has is called in the
test_collections_*.py files, with hits and misses: a missing collection
answers the SDK's Miss, never an error.

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

This module holds what the test_collections_*.py files share: `Wire`, `MISSING`,
the error-code and sort-order constants, `assert_success` and `fetch_bytes`. It is
not a test file (pytest collects test_*.py only); the tests import it like
`sg_harness`, from this directory.
"""

from __future__ import annotations

from typing import Callable, Optional

import grpc
from momento import CacheClient
from momento.errors import MomentoErrorCode, convert_error
from momento.internal.services import Service
from momento.internal.synchronous._utilities import make_metadata
from momento.requests import SortOrder
from momento.responses import CacheSortedSetFetch
from momento_wire_types import cacheclient_pb2 as pb
from momento_wire_types import common_pb2

from sg_harness import CACHE, assert_ok, error_code

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
        for side, score, exclusive in (("min", min, min_exclusive), ("max", max, max_exclusive)):
            if score is None:
                getattr(req, f"unbounded_{side}").CopyFrom(common_pb2._Unbounded())
            else:
                setattr(req, f"{'exclusive' if exclusive else 'inclusive'}_{side}", score)
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
        for side, score, exclusive in (("min", min, min_exclusive), ("max", max, max_exclusive)):
            if score is None:
                getattr(req.by_score, f"unbounded_{side}").CopyFrom(common_pb2._Unbounded())
            else:
                bound = getattr(req.by_score, f"{side}_score")
                bound.score = score
                bound.exclusive = exclusive
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
