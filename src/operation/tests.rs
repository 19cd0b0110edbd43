use super::http::{HTTP_ROWS, MAX_SEGMENTS};
use super::*;

#[test]
fn every_grpc_row_round_trips_through_its_path() {
    for &kind in OperationKind::ALL {
        if kind.front() == Front::Grpc {
            assert_eq!(OperationKind::from_grpc_path(kind.route()), Some(kind));
        }
    }
}

#[test]
fn unknown_and_http_routes_are_not_grpc_operations() {
    for path in [
        "/auth.Auth/Login",
        "/leaderboard.Leaderboard/GetRank",
        "/function.FunctionHost/InvokeWebFunction",
        "/cache_client.Scs/get",
        "/cache_client.Scs/Get/",
        "cache_client.Scs/Get",
        "",
        "GET /cache/{cache}",
    ] {
        assert_eq!(OperationKind::from_grpc_path(path), None, "{path}");
    }
}

#[test]
fn http_requests_are_routed_by_the_table() {
    use HttpRoute::*;
    let cases = [
        (
            "GET",
            "/cache/c",
            Row(OperationKind::HttpCacheGet, ["c", ""]),
        ),
        (
            "PUT",
            "/cache/c",
            Row(OperationKind::HttpCachePut, ["c", ""]),
        ),
        (
            "DELETE",
            "/cache/c%2Fd",
            Row(OperationKind::HttpCacheDelete, ["c%2Fd", ""]),
        ),
        ("GET", "/cache/", Row(OperationKind::HttpCacheGet, ["", ""])),
        (
            "POST",
            "/topics/c/t",
            Row(OperationKind::HttpTopicPublish, ["c", "t"]),
        ),
        (
            "GET",
            "/topics/c/t",
            Row(OperationKind::HttpTopicSubscribe, ["c", "t"]),
        ),
        ("POST", "/cache/c", WrongMethod),
        ("PATCH", "/topics/c/t", WrongMethod),
        ("GET", "/cache/c/", NoRoute),
        ("GET", "/cache", NoRoute),
        ("GET", "/topics/c", NoRoute),
        ("GET", "/topics/c/t/u", NoRoute),
        ("GET", "cache/c", NoRoute),
        ("GET", "/", NoRoute),
        ("GET", "/cache_client.Scs/Get", NoRoute),
        // Longer than any row, at and past the segment bound.
        ("GET", "/topics/c/t/u/v", NoRoute),
        ("GET", "/a/b/c/d/e/f/g", NoRoute),
        ("GET", "//", NoRoute),
        ("GET", "", NoRoute),
    ];
    // Every row fits the bound, so no path that could match is cut off.
    assert!(
        HTTP_ROWS
            .iter()
            .all(|row| row.segments.len() < MAX_SEGMENTS)
    );
    for (method, path, want) in cases {
        assert_eq!(
            OperationKind::from_http(method, path),
            want,
            "{method} {path}"
        );
    }
}

#[test]
fn every_row_names_its_service_in_its_route() {
    for &kind in OperationKind::ALL {
        let route = kind.route();
        match kind.service().grpc_name() {
            Some(service) => {
                let (named, method) = route[1..].split_once('/').unwrap();
                assert_eq!(named, service, "{kind:?}");
                assert_eq!(
                    method,
                    kind.name(),
                    "{kind:?}: the method is the kind's name"
                );
            }
            None => {
                let (method, path) = route.split_once(' ').unwrap();
                assert!(
                    ["GET", "PUT", "DELETE", "POST"].contains(&method),
                    "{kind:?}"
                );
                assert_eq!(
                    OperationKind::from_http(method, path),
                    HttpRoute::Row(
                        kind,
                        [
                            "{cache}",
                            if path.matches('{').count() == 2 {
                                "{topic}"
                            } else {
                                ""
                            }
                        ]
                    )
                );
            }
        }
    }
}

#[test]
fn routes_are_unique() {
    let mut routes: Vec<_> = OperationKind::ALL.iter().map(|k| k.route()).collect();
    routes.sort_unstable();
    let before = routes.len();
    routes.dedup();
    assert_eq!(before, routes.len());
}
