"""Collections under scoped tokens through momento 1.29.1: read-only, write-only,
key-prefix and single-key tokens.

See collections_wire.py for the general notes (what `Wire` sends below the SDK).
"""

from __future__ import annotations

from momento import CacheClient
from momento.auth.access_control.disposable_token_scopes import DisposableTokenScopes as S
from momento.responses import CacheDictionaryFetch, CacheDictionarySetField, CacheListFetch, CacheSetFetch

from collections_wire import PERM, Wire, fetch_bytes
from sg_harness import CACHE, OTHER_CACHE, assert_error, assert_ok, error_code, unique


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
