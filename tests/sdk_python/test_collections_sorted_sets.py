"""Sorted sets through momento 1.29.1: order, rank and score bounds, scores, ranks, increments, removal, union store.

See collections_wire.py for the general notes (what `Wire` sends below the SDK, and
how the gateway answers a rank asked of a missing sorted set).
"""

from __future__ import annotations

from momento.responses import (
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

from collections_wire import DESC, MISSING, Wire, fetch_bytes
from sg_harness import CACHE, assert_ok, unique


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
