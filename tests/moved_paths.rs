//! The items that `operation/` and `backend/` were split into files for are
//! still reachable at their old paths from outside the crate, and behave as
//! they did: the HTTP router's three answers, the conditions a conditional
//! set decides with, and the idle clock of a subscription.

use std::time::Duration;

use scopegate::backend::{Condition, IdleClock, TopicValue, value_hash};
use scopegate::operation::{HttpRoute, OperationKind};

#[test]
fn the_http_router_answers_a_row_a_wrong_method_or_no_route() {
    assert_eq!(
        OperationKind::from_http("GET", "/cache/c%20x"),
        HttpRoute::Row(OperationKind::HttpCacheGet, ["c%20x", ""])
    );
    assert_eq!(
        OperationKind::from_http("POST", "/topics/c/t"),
        HttpRoute::Row(OperationKind::HttpTopicPublish, ["c", "t"])
    );
    assert_eq!(
        OperationKind::from_http("PATCH", "/cache/c"),
        HttpRoute::WrongMethod
    );
    for path in [
        "/cache",
        "/cache/c/extra",
        "cache/c",
        "/nope/c",
        "/a/b/c/d/e",
    ] {
        assert_eq!(
            OperationKind::from_http("GET", path),
            HttpRoute::NoRoute,
            "{path}"
        );
    }
}

#[test]
fn conditions_decide_on_the_value_or_its_hash() {
    let v = b"value".to_vec();
    let hash = value_hash(b"value").to_vec();
    assert!(Condition::Equal(v.clone()).holds(Some(b"value")));
    assert!(!Condition::Equal(v.clone()).holds(None));
    assert!(Condition::AbsentOrEqual(v).holds(None));
    assert!(Condition::PresentAndHashEqual(hash.clone()).holds(Some(b"value")));
    assert!(!Condition::PresentAndHashEqual(hash.clone()).holds(Some(b"other")));
    assert!(!Condition::AbsentOrNotHashEqual(hash).holds(Some(b"value")));
    assert!(Condition::Absent.holds(None) && !Condition::Absent.holds(Some(b"")));
    assert_eq!(TopicValue::Text("héllo".into()).len(), 6);
    assert!(TopicValue::Binary(Default::default()).is_empty());
}

#[tokio::test]
async fn an_idle_clock_is_due_after_its_interval_and_restarts() {
    let every = Duration::from_secs(5);
    let before = tokio::time::Instant::now();
    let mut clock = IdleClock::new(every);
    let first = clock.due();
    assert!(first >= before + every);
    tokio::time::sleep(Duration::from_millis(20)).await;
    clock.restart();
    // The silence starts again at the restart: the heartbeat moves with it.
    assert!(clock.due() >= first + Duration::from_millis(20));
}
