//! A model-based test of collections: seeded random sequences of collection
//! (and scalar) operations on a few names, applied to the memory backend and
//! to the Redis backend, and to a plain reference model written here from
//! SPEC 10. Every answer and the final state of every name must agree with
//! the model. A failure names its seed and step. The steps and their
//! generator are in `steps`, the model in `model`.

mod model;
mod steps;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use scopegate::backend::collection::{
    CollectionBackend, CollectionOp, CollectionReply as Reply, IndexRange, Order,
};
use scopegate::backend::{BackendError, CacheBackend, Limits};
use scopegate::{Operation, OperationKind};

use super::{CACHE, SUPERUSER};

/// Small enough that sequences reach it.
const MAX_BYTES: usize = 160;
const NAMES: [&[u8]; 3] = [b"a", b"b", b"c"];
const ELEMENTS: [&[u8]; 6] = [b"", b"x", b"yy", b"zzz", b"1", b"-3"];
// -0.0 is stored as 0.0 on both backends (Redis orders the two as equal).
const SCORES: [f64; 7] = [-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0];

use model::b;
use model::{Answer, Held, model};
use steps::{Step, pick, step};

/// Replies compared without the order Redis and Rust's hash maps choose.
fn normalized(step: &Step, reply: Reply) -> Reply {
    match (step, reply) {
        (_, Reply::Pairs(mut p)) => {
            p.sort();
            Reply::Pairs(p)
        }
        (Step::SetFetch | Step::SetPop(_), Reply::Values(mut v)) => {
            v.sort();
            Reply::Values(v)
        }
        (_, r) => r,
    }
}

async fn run<B: CollectionBackend + CacheBackend>(backend: &B, seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = BTreeMap::new();
    for i in 0..steps {
        let name = pick(&mut rng, &NAMES);
        let step = step(&mut rng);
        let got: Result<Reply, BackendError> = match (&step, step.op()) {
            (Step::Scalar(v), _) => {
                let permit = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Set, CACHE, name))
                    .unwrap();
                backend
                    .set(&permit, b(v), super::TTL)
                    .await
                    .map(|()| Reply::Done)
            }
            (Step::Get, _) => {
                let permit = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Get, CACHE, name))
                    .unwrap();
                backend
                    .get(&permit)
                    .await
                    .map(|v| v.map_or(Reply::Missing, |v| Reply::Values(vec![v])))
            }
            (_, Some(op)) => {
                // Any kind of the op's class authorizes it (the backend reads
                // only the permit's target).
                let kind = match op.class() {
                    scopegate::operation::Class::Read => OperationKind::DictionaryGet,
                    scopegate::operation::Class::Write => OperationKind::DictionarySet,
                    _ => OperationKind::DictionaryIncrement,
                };
                let permit = SUPERUSER
                    .authorize(&Operation::key(kind, CACHE, name))
                    .unwrap();
                backend.collection(&permit, &op).await
            }
            _ => unreachable!(),
        };
        let got = match got {
            Ok(reply) => Answer::Reply(normalized(&step, reply)),
            Err(BackendError::ItemTooLarge) => Answer::TooLarge,
            Err(BackendError::FailedPrecondition(m)) if m.contains("integer") => Answer::NotInteger,
            Err(BackendError::FailedPrecondition(_)) => Answer::WrongType,
            Err(e) => panic!("seed {seed} step {i} {step:?}: {e}"),
        };
        let popped = match &got {
            Answer::Reply(r) => Some(r),
            _ => None,
        };
        let want = model(&mut state, name, &step, popped);
        let want = match want {
            Answer::Reply(r) => Answer::Reply(normalized(&step, r)),
            other => other,
        };
        assert_eq!(
            got,
            want,
            "seed {seed} step {i}: {step:?} on {:?}",
            String::from_utf8_lossy(name)
        );
    }
    // The final state of every name, read back whole.
    for name in NAMES {
        let want = state.get(name);
        let permit = SUPERUSER
            .authorize(&Operation::key(OperationKind::DictionaryGet, CACHE, name))
            .unwrap();
        let all = IndexRange::default();
        let read = |op, step: Step| async move {
            backend
                .collection(&permit, &op)
                .await
                .map(|r| normalized(&step, r))
        };
        let got = match want {
            None => {
                let get = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Get, CACHE, name))
                    .unwrap();
                assert_eq!(
                    backend.get(&get).await,
                    Ok(None),
                    "seed {seed}: {name:?} should be gone"
                );
                continue;
            }
            Some(Held::Scalar(_)) => continue,
            Some(Held::Dictionary(_)) => {
                read(CollectionOp::DictionaryFetch, Step::DictionaryFetch).await
            }
            Some(Held::Set(_)) => read(CollectionOp::SetFetch, Step::SetFetch).await,
            Some(Held::List(_)) => {
                read(CollectionOp::ListFetch { range: all }, Step::ListLength).await
            }
            Some(Held::SortedSet(_)) => {
                let op = CollectionOp::SortedSetFetchByIndex {
                    range: all,
                    order: Order::Ascending,
                };
                read(op, Step::SortedSetLength).await
            }
        };
        let expected = match want.unwrap() {
            Held::Dictionary(d) => {
                let mut p: Vec<_> = d.iter().map(|(f, v)| (b(f), b(v))).collect();
                p.sort();
                Reply::Pairs(p)
            }
            Held::Set(s) => Reply::Values(s.iter().map(|v| b(v)).collect()),
            Held::List(l) => Reply::Values(l.iter().map(|v| b(v)).collect()),
            Held::SortedSet(z) => Reply::Scored(z.iter().map(|(v, s)| (b(v), *s)).collect()),
            Held::Scalar(_) => unreachable!(),
        };
        assert_eq!(got, Ok(expected), "seed {seed}: final state of {name:?}");
    }
}

fn limits() -> Limits {
    Limits {
        max_collection_bytes: MAX_BYTES,
        ..Limits::default()
    }
}

const SEEDS: u64 = 40;
const STEPS: usize = 150;

#[tokio::test]
async fn random_collection_sequences_agree_with_the_model_on_memory() {
    for seed in 0..SEEDS {
        let backend = scopegate::backend::memory::MemoryBackend::new(limits(), &[CACHE.into()]);
        run(&backend, seed, STEPS).await;
    }
}

#[tokio::test]
async fn random_collection_sequences_agree_with_the_model_on_redis() {
    let redis = super::support::redis::RedisServer::start();
    for seed in 0..SEEDS {
        let backend = super::backend_with_limits(&redis, &format!("model{seed}"), limits());
        run(&backend, seed, STEPS).await;
    }
}
