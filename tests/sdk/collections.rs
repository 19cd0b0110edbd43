//! Collections through Momento's Rust SDK (SPEC 10), on both backends:
//! every collection method the SDK exposes, the type rules, the limits, and
//! the denials of read-only, write-only and key-prefix scopes.

use std::collections::HashMap;

use momento::MomentoErrorCode;
use momento::cache::{
    DictionaryGetFieldResponse, DictionaryLengthResponse, ItemGetTypeResponse, ItemType,
    ListLengthResponse, ListPopBackResponse, ListPopFrontResponse, ScoreBound, SetFetchResponse,
    SortedSetAggregateFunction, SortedSetFetchByScoreRequest, SortedSetFetchResponse,
    SortedSetGetRankResponse, SortedSetGetScoreResponse, SortedSetLengthByScoreRequest,
    SortedSetLengthByScoreResponse, SortedSetLengthResponse, SortedSetOrder,
    SortedSetUnionStoreRequest, SortedSetUnionStoreSource,
};

use crate::support::server::start;
use crate::{CACHE, sdk_client};
use momento::cache::MomentoRequest;

fn code<T: std::fmt::Debug>(result: momento::MomentoResult<T>) -> MomentoErrorCode {
    result.expect_err("the call must fail").error_code
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

both_backends! {
#[tokio::test]
async fn dictionaries_sets_and_item_types() {
    let s = start(|_| {}).await;
    let c = sdk_client(&s, &s.superuser);
    let d = "session/1";
    c.dictionary_set_fields(CACHE, d, vec![("name", "ada"), ("visits", "1")])
        .await
        .unwrap();
    c.dictionary_set_field(CACHE, d, "lang", "rust").await.unwrap();
    let all: HashMap<String, String> = c.dictionary_fetch(CACHE, d).await.unwrap().try_into().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all["name"], "ada");
    match c.dictionary_get_field(CACHE, d, "lang").await.unwrap() {
        DictionaryGetFieldResponse::Hit { value } => {
            assert_eq!(String::try_from(value).unwrap(), "rust")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.dictionary_get_field(CACHE, d, "none").await.unwrap(),
        DictionaryGetFieldResponse::Miss
    ));
    let fields = c
        .dictionary_get_fields(CACHE, d, vec!["name", "none", "lang"])
        .await
        .unwrap();
    let got: HashMap<String, String> = fields.try_into().unwrap();
    assert_eq!(got.len(), 2, "hits only: {got:?}");
    assert_eq!(c.dictionary_increment(CACHE, d, "visits", 41).await.unwrap().value, 42);
    assert_eq!(c.dictionary_increment(CACHE, d, "new", -3).await.unwrap().value, -3);
    // Integer-only increments; nothing changes.
    assert_eq!(
        code(c.dictionary_increment(CACHE, d, "name", 1).await),
        MomentoErrorCode::FailedPreconditionError
    );
    assert!(matches!(
        c.dictionary_length(CACHE, d).await.unwrap(),
        DictionaryLengthResponse::Hit { length: 4 }
    ));
    c.dictionary_remove_fields(CACHE, d, vec!["new", "lang"]).await.unwrap();
    c.dictionary_remove_field(CACHE, d, "none").await.unwrap();
    assert!(matches!(
        c.dictionary_length(CACHE, d).await.unwrap(),
        DictionaryLengthResponse::Hit { length: 2 }
    ));
    assert!(matches!(
        c.dictionary_length(CACHE, "no-such-dictionary").await.unwrap(),
        DictionaryLengthResponse::Miss
    ));

    // Sets.
    c.set_add_elements(CACHE, "tags", vec!["a", "b", "c"]).await.unwrap();
    c.set_add_elements(CACHE, "tags", vec!["c", "d"]).await.unwrap();
    c.set_remove_elements(CACHE, "tags", vec!["a", "zz"]).await.unwrap();
    let tags: Vec<String> = c.set_fetch(CACHE, "tags").await.unwrap().try_into().unwrap();
    assert_eq!(sorted(tags), strings(&["b", "c", "d"]));
    assert!(matches!(
        c.set_fetch(CACHE, "no-such-set").await.unwrap(),
        SetFetchResponse::Miss
    ));
    // Removing every element deletes the set.
    c.set_remove_elements(CACHE, "tags", vec!["b", "c", "d"]).await.unwrap();
    assert!(matches!(
        c.set_fetch(CACHE, "tags").await.unwrap(),
        SetFetchResponse::Miss
    ));

    // Item types, and operations on the wrong type.
    c.set(CACHE, "plain", "v").await.unwrap();
    c.set_add_elements(CACHE, "a-set", vec!["x"]).await.unwrap();
    c.list_push_back(CACHE, "a-list", "x").await.unwrap();
    c.sorted_set_put_element(CACHE, "a-zset", "x", 1.0).await.unwrap();
    for (key, want) in [
        ("plain", ItemType::Scalar),
        (d, ItemType::Dictionary),
        ("a-set", ItemType::Set),
        ("a-list", ItemType::List),
        ("a-zset", ItemType::SortedSet),
    ] {
        match c.item_get_type(CACHE, key).await.unwrap() {
            ItemGetTypeResponse::Hit { key_type } => assert_eq!(key_type, want, "{key}"),
            other => panic!("{key}: {other:?}"),
        }
    }
    assert!(matches!(
        c.item_get_type(CACHE, "nothing").await.unwrap(),
        ItemGetTypeResponse::Miss
    ));
    let precondition = MomentoErrorCode::FailedPreconditionError;
    assert_eq!(code(c.get(CACHE, d).await), precondition, "a scalar Get on a dictionary");
    assert_eq!(code(c.dictionary_fetch(CACHE, "plain").await), precondition);
    assert_eq!(code(c.set_add_elements(CACHE, "a-list", vec!["y"]).await), precondition);
    assert_eq!(code(c.list_fetch(CACHE, "a-set").await), precondition);
    assert_eq!(code(c.sorted_set_length(CACHE, d).await), precondition);
    assert_eq!(code(c.increment(CACHE, "a-zset", 1).await), precondition);
    // Conditional scalar writes do not replace a collection.
    assert_eq!(code(c.set_if_present(CACHE, d, "x").await), precondition);
    assert_eq!(code(c.set_if_absent(CACHE, d, "x").await), precondition);
    assert_eq!(code(c.set_if_not_equal(CACHE, d, "x", "y").await), precondition);
    assert!(matches!(
        c.dictionary_length(CACHE, d).await.unwrap(),
        DictionaryLengthResponse::Hit { length: 2 }
    ));
    // Nothing was half-written: the list still holds its one element.
    let list: Vec<String> = c.list_fetch(CACHE, "a-list").await.unwrap().try_into().unwrap();
    assert_eq!(list, ["x"]);
}
}

both_backends! {
#[tokio::test]
async fn lists_follow_momentos_ranges_and_truncation() {
    let s = start(|_| {}).await;
    let c = sdk_client(&s, &s.superuser);
    let l = "feed";
    c.list_concatenate_back(CACHE, l, vec!["c", "d"]).await.unwrap();
    c.list_concatenate_front(CACHE, l, vec!["a", "b"]).await.unwrap();
    c.list_push_back(CACHE, l, "e").await.unwrap();
    c.list_push_front(CACHE, l, "_").await.unwrap();
    let all: Vec<String> = c.list_fetch(CACHE, l).await.unwrap().try_into().unwrap();
    assert_eq!(all, strings(&["_", "a", "b", "c", "d", "e"]));
    let part: Vec<String> = momento::cache::ListFetchRequest::new(CACHE, l)
        .start_index(1)
        .end_index(-2)
        .send(&c)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(part, strings(&["a", "b", "c"]));
    match c.list_pop_front(CACHE, l).await.unwrap() {
        ListPopFrontResponse::Hit { value } => assert_eq!(String::try_from(value).unwrap(), "_"),
        other => panic!("{other:?}"),
    }
    match c.list_pop_back(CACHE, l).await.unwrap() {
        ListPopBackResponse::Hit { value } => assert_eq!(String::try_from(value).unwrap(), "e"),
        other => panic!("{other:?}"),
    }
    c.list_push_back(CACHE, l, "a").await.unwrap();
    c.list_remove_value(CACHE, l, "a").await.unwrap();
    let all: Vec<String> = c.list_fetch(CACHE, l).await.unwrap().try_into().unwrap();
    assert_eq!(all, strings(&["b", "c", "d"]));
    c.list_retain(CACHE, l, 1, None).await.unwrap();
    assert!(matches!(
        c.list_length(CACHE, l).await.unwrap(),
        ListLengthResponse::Hit { length: 2 }
    ));
    // Truncation drops from the other end.
    momento::cache::ListConcatenateBackRequest::new(CACHE, l, vec!["x", "y", "z"])
        .truncate_front_to_size(3)
        .send(&c)
        .await
        .unwrap();
    let all: Vec<String> = c.list_fetch(CACHE, l).await.unwrap().try_into().unwrap();
    assert_eq!(all, strings(&["x", "y", "z"]));
    for _ in 0..3 {
        c.list_pop_front(CACHE, l).await.unwrap();
    }
    assert!(matches!(
        c.list_pop_front(CACHE, l).await.unwrap(),
        ListPopFrontResponse::Miss
    ));
    assert!(matches!(
        c.list_length(CACHE, l).await.unwrap(),
        ListLengthResponse::Miss
    ));
}
}

both_backends! {
#[tokio::test]
async fn sorted_sets_order_ties_by_value_and_union_with_weights() {
    let s = start(|_| {}).await;
    let c = sdk_client(&s, &s.superuser);
    let z = "board";
    c.sorted_set_put_elements(CACHE, z, vec![("carol", 3.0), ("bob", 2.0), ("alice", 2.0), ("dave", -1.5)])
        .await
        .unwrap();
    let asc: Vec<(String, f64)> = c
        .sorted_set_fetch_by_rank(CACHE, z, SortedSetOrder::Ascending, None, None)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        asc,
        [("dave".to_string(), -1.5), ("alice".into(), 2.0), ("bob".into(), 2.0), ("carol".into(), 3.0)]
    );
    let top2: Vec<(String, f64)> = c
        .sorted_set_fetch_by_rank(CACHE, z, SortedSetOrder::Descending, Some(0), Some(2))
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(top2, [("carol".to_string(), 3.0), ("bob".into(), 2.0)]);
    let by_score: Vec<(String, f64)> = SortedSetFetchByScoreRequest::new(CACHE, z)
        .min_score(ScoreBound::Exclusive(-1.5))
        .max_score(ScoreBound::Inclusive(3.0))
        .offset(1)
        .count(5)
        .send(&c)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(by_score, [("bob".to_string(), 2.0), ("carol".into(), 3.0)]);
    assert!(matches!(
        c.sorted_set_get_rank(CACHE, z, "bob").await.unwrap(),
        SortedSetGetRankResponse::Hit { rank: 2 }
    ));
    assert!(matches!(
        c.sorted_set_get_rank(CACHE, z, "nobody").await.unwrap(),
        SortedSetGetRankResponse::Miss
    ));
    assert!(matches!(
        c.sorted_set_get_rank(CACHE, "no-such-set", "nobody").await.unwrap(),
        SortedSetGetRankResponse::Miss
    ));
    assert!(matches!(
        c.sorted_set_get_score(CACHE, z, "dave").await.unwrap(),
        SortedSetGetScoreResponse::Hit { score } if score == -1.5
    ));
    assert_eq!(
        c.sorted_set_increment_score(CACHE, z, "dave", 10.25).await.unwrap().score,
        8.75
    );
    assert!(matches!(
        c.sorted_set_length(CACHE, z).await.unwrap(),
        SortedSetLengthResponse::Hit { length: 4 }
    ));
    assert!(matches!(
        SortedSetLengthByScoreRequest::new(CACHE, z)
            .min_score(ScoreBound::Inclusive(2.0))
            .max_score(ScoreBound::Exclusive(8.75))
            .send(&c)
            .await
            .unwrap(),
        SortedSetLengthByScoreResponse::Hit { length: 3 }
    ));
    c.sorted_set_remove_elements(CACHE, z, vec!["carol"]).await.unwrap();

    // UnionStore: weights and aggregates; the destination is not a source.
    c.sorted_set_put_elements(CACHE, "other", vec![("bob", 1.0), ("erin", 4.0)])
        .await
        .unwrap();
    c.sorted_set_put_element(CACHE, "dest", "stale", 1.0).await.unwrap();
    let sources = vec![
        SortedSetUnionStoreSource::new(z, 1.0),
        SortedSetUnionStoreSource::new("other", 2.0),
        SortedSetUnionStoreSource::new("no-such-set", 5.0),
    ];
    let stored = SortedSetUnionStoreRequest::new(CACHE, "dest", sources.clone())
        .aggregate(SortedSetAggregateFunction::Max)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(stored.length, 4);
    let dest: Vec<(String, f64)> = c
        .sorted_set_fetch_by_rank(CACHE, "dest", SortedSetOrder::Ascending, None, None)
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        dest,
        [("alice".to_string(), 2.0), ("bob".into(), 2.0), ("erin".into(), 8.0), ("dave".into(), 8.75)]
    );
    let stored = c.sorted_set_union_store(CACHE, "dest", sources).await.unwrap();
    assert_eq!(stored.length, 4);
    assert!(matches!(
        c.sorted_set_get_score(CACHE, "dest", "bob").await.unwrap(),
        SortedSetGetScoreResponse::Hit { score } if score == 4.0
    ));
    assert!(matches!(
        c.sorted_set_fetch_by_rank(CACHE, "missing", SortedSetOrder::Ascending, None, None)
            .await
            .unwrap(),
        SortedSetFetchResponse::Miss
    ));
    // Scores must be numbers; nothing is half-written.
    assert_eq!(
        code(c.sorted_set_put_elements(CACHE, z, vec![("x", 1.0), ("y", f64::NAN)]).await),
        MomentoErrorCode::InvalidArgumentError
    );
    assert_eq!(
        code(c.sorted_set_put_element(CACHE, z, "x", f64::INFINITY).await),
        MomentoErrorCode::InvalidArgumentError
    );
    assert!(matches!(
        c.sorted_set_get_score(CACHE, z, "x").await.unwrap(),
        SortedSetGetScoreResponse::Miss
    ));
}
}

both_backends! {
#[tokio::test]
async fn collection_scopes_deny_what_their_role_and_prefix_do_not_grant() {
    let s = start(|c| c.server.max_value_bytes = 64 * 1024).await;
    let su = sdk_client(&s, &s.superuser);
    su.dictionary_set_field(CACHE, "user-1/d", "f", "v").await.unwrap();
    su.sorted_set_put_element(CACHE, "user-1/z", "v", 1.0).await.unwrap();
    su.sorted_set_put_element(CACHE, "user-2/z", "v", 1.0).await.unwrap();
    let denied = MomentoErrorCode::PermissionError;

    let read_only = sdk_client(&s, &s.mint(
        r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#, true, Some(600)));
    read_only.dictionary_fetch(CACHE, "user-1/d").await.unwrap();
    assert_eq!(code(read_only.dictionary_set_field(CACHE, "user-1/d", "f", "w").await), denied);
    assert_eq!(code(read_only.dictionary_increment(CACHE, "user-1/d", "n", 1).await), denied);
    assert_eq!(code(read_only.list_push_back(CACHE, "user-1/l", "x").await), denied);
    assert_eq!(code(read_only.sorted_set_increment_score(CACHE, "user-1/z", "v", 1.0).await), denied);

    let write_only = sdk_client(&s, &s.mint(
        r#"{"permissions":[{"role":"writeonly","cache":"default-cache"}]}"#, true, Some(600)));
    write_only.set_add_elements(CACHE, "user-1/s", vec!["x"]).await.unwrap();
    assert_eq!(code(write_only.set_fetch(CACHE, "user-1/s").await), denied);
    assert_eq!(code(write_only.list_pop_front(CACHE, "user-1/s").await), denied);
    assert_eq!(code(write_only.dictionary_fetch(CACHE, "user-1/d").await), denied);

    let prefixed = sdk_client(&s, &s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"user-1/"}}]}"#,
        true, Some(600)));
    prefixed.dictionary_set_field(CACHE, "user-1/d", "g", "v").await.unwrap();
    assert_eq!(code(prefixed.dictionary_set_field(CACHE, "user-2/d", "g", "v").await), denied);
    assert_eq!(code(prefixed.sorted_set_fetch_by_rank(CACHE, "user-2/z", SortedSetOrder::Ascending, None, None).await), denied);
    // UnionStore: RW on the destination and R on every source.
    let sources = |names: &[&'static str]| names.iter().map(|n| SortedSetUnionStoreSource::new(*n, 1.0)).collect::<Vec<_>>();
    prefixed.sorted_set_union_store(CACHE, "user-1/u", sources(&["user-1/z"])).await.unwrap();
    assert_eq!(code(prefixed.sorted_set_union_store(CACHE, "user-1/u", sources(&["user-1/z", "user-2/z"])).await), denied);
    assert_eq!(code(prefixed.sorted_set_union_store(CACHE, "user-2/u", sources(&["user-1/z"])).await), denied);
    assert_eq!(code(read_only.sorted_set_union_store(CACHE, "user-1/u", sources(&["user-1/z"])).await), denied);

    // Limits: one element over the cap, and a collection grown past it.
    let big = "x".repeat(64 * 1024 + 1);
    let limit = MomentoErrorCode::LimitExceededError;
    assert_eq!(code(su.list_push_back(CACHE, "user-1/l", big.as_str()).await), limit);
    let half = "y".repeat(40 * 1024);
    su.list_push_back(CACHE, "user-1/l", half.as_str()).await.unwrap();
    assert_eq!(code(su.list_push_back(CACHE, "user-1/l", half.as_str()).await), limit);
    assert!(matches!(
        su.list_length(CACHE, "user-1/l").await.unwrap(),
        ListLengthResponse::Hit { length: 1 }
    ));
    assert_eq!(code(su.dictionary_set_field(CACHE, "", "f", "v").await), MomentoErrorCode::InvalidArgumentError);

    // A union past the bound is refused, and its destination left alone.
    let mut names = Vec::new();
    // Ten parts of 8,000 bytes each: 80,000 together, past 64 KiB.
    for i in 0..10 {
        let name = format!("user-1/part-{i}");
        let elements: Vec<(String, f64)> = (0..400).map(|j| (format!("{i}-{j:05}"), j as f64)).collect();
        su.sorted_set_put_elements(CACHE, name.as_str(), elements).await.unwrap();
        names.push(name);
    }
    su.sorted_set_put_element(CACHE, "user-1/dest", "kept", 1.0).await.unwrap();
    let parts: Vec<_> = names.iter().map(|n| SortedSetUnionStoreSource::new(n.as_str(), 1.0)).collect();
    assert_eq!(code(su.sorted_set_union_store(CACHE, "user-1/dest", parts).await), limit);
    assert!(matches!(
        su.sorted_set_length(CACHE, "user-1/dest").await.unwrap(),
        SortedSetLengthResponse::Hit { length: 1 }
    ));
}
}

both_backends! {
#[tokio::test]
async fn collection_ttls_refresh_only_when_asked_and_a_full_collection_is_fetched_whole() {
    use momento::cache::{CollectionTtl, DictionarySetFieldRequest, SortedSetGetScoresResponse};
    use std::time::Duration;
    let s = start(|_| {}).await;
    let c = sdk_client(&s, &s.superuser);
    let ttl = |key: &'static str| {
        let c = &c;
        async move {
            let left: Duration = c.item_get_ttl(CACHE, key).await.unwrap().try_into().unwrap();
            left
        }
    };
    // Created with a 600 s TTL.
    DictionarySetFieldRequest::new(CACHE, "ttl-d", "a", "1")
        .ttl(CollectionTtl::refresh_on_update(Duration::from_secs(600)))
        .send(&c)
        .await
        .unwrap();
    assert!(ttl("ttl-d").await > Duration::from_secs(500));
    // A write that does not refresh keeps it...
    DictionarySetFieldRequest::new(CACHE, "ttl-d", "b", "2")
        .ttl(CollectionTtl::initialize_only(Duration::from_secs(5)))
        .send(&c)
        .await
        .unwrap();
    assert!(ttl("ttl-d").await > Duration::from_secs(500), "initialize_only kept the TTL");
    // ...one that refreshes resets it.
    DictionarySetFieldRequest::new(CACHE, "ttl-d", "c", "3")
        .ttl(CollectionTtl::refresh_on_update(Duration::from_secs(5)))
        .send(&c)
        .await
        .unwrap();
    let left = ttl("ttl-d").await;
    assert!(left <= Duration::from_secs(5) && left > Duration::from_secs(1), "{left:?}");

    // GetScores answers per value, in order.
    c.sorted_set_put_elements(CACHE, "scores", vec![("a", 1.0), ("b", 2.0)]).await.unwrap();
    match c.sorted_set_get_scores(CACHE, "scores", vec!["b", "zz", "a"]).await.unwrap() {
        SortedSetGetScoresResponse::Hit { responses, .. } => {
            let got: Vec<Option<f64>> = responses
                .into_iter()
                .map(|r| match r {
                    SortedSetGetScoreResponse::Hit { score } => Some(score),
                    SortedSetGetScoreResponse::Miss => None,
                })
                .collect();
            assert_eq!(got, [Some(2.0), None, Some(1.0)]);
        }
        other => panic!("{other:?}"),
    }

    // A collection filled to the bound is fetched whole within the SDK's
    // message cap: elements count for what they take in the answer.
    let big = "x".repeat(100_000);
    let mut pushed = 0;
    loop {
        match c.list_push_back(CACHE, "full", big.as_str()).await {
            Ok(_) => pushed += 1,
            Err(e) => {
                assert_eq!(e.error_code, MomentoErrorCode::LimitExceededError, "{e:?}");
                break;
            }
        }
        assert!(pushed < 100, "the 5 MiB bound must stop a list of 100 kB elements");
    }
    let all: Vec<Vec<u8>> = c.list_fetch(CACHE, "full").await.unwrap().try_into().unwrap();
    assert_eq!(all.len(), pushed);
    assert!(pushed >= 50, "{pushed} elements of 100 kB");
}
}
