//! Lists: a deque of elements.

use std::collections::VecDeque;

use bytes::Bytes;

use super::owned;
use crate::backend::BackendError;
use crate::backend::collection::{
    CollectionOp, CollectionReply as Reply, End, element_size, erased_ranges, is_erased, length,
    wrong_type,
};

/// A push's exact growth in size: what it adds less what its truncation
/// drops (counted without changing the list).
pub(in crate::backend::memory) fn push_growth(
    l: &VecDeque<Bytes>,
    end: End,
    values: &[Vec<u8>],
    truncate_to: u32,
) -> isize {
    let added: usize = values.iter().map(|v| element_size(v.len())).sum();
    let total = l.len() + values.len();
    let limit = truncate_to as usize;
    let dropped = if limit > 0 && total > limit {
        total - limit
    } else {
        0
    };
    let size = |v: &[u8]| element_size(v.len());
    // The list after the push, values and old elements in order; the
    // truncation drops from the end opposite to the push.
    let dropped_bytes: usize = match end {
        End::Front => values
            .iter()
            .map(|v| size(v))
            .chain(l.iter().map(|v| size(v)))
            .rev()
            .take(dropped)
            .sum(),
        End::Back => l
            .iter()
            .map(|v| size(v))
            .chain(values.iter().map(|v| size(v)))
            .take(dropped)
            .sum(),
    };
    added as isize - dropped_bytes as isize
}

pub(super) fn list(
    l: &mut VecDeque<Bytes>,
    op: CollectionOp<'_>,
    grown: &mut isize,
) -> Result<Reply, BackendError> {
    let size = |v: &Bytes| element_size(v.len()) as isize;
    Ok(match op {
        CollectionOp::ListPush {
            end,
            values,
            truncate_to,
            ..
        } => {
            match end {
                // Concatenating at the front keeps the values' order.
                End::Front => values.iter().rev().for_each(|v| l.push_front(owned(v))),
                End::Back => values.iter().for_each(|v| l.push_back(owned(v))),
            }
            *grown += values
                .iter()
                .map(|v| element_size(v.len()) as isize)
                .sum::<isize>();
            let limit = truncate_to as usize;
            while limit > 0 && l.len() > limit {
                let dropped = match end {
                    End::Front => l.pop_back(),
                    End::Back => l.pop_front(),
                };
                *grown -= dropped.as_ref().map_or(0, size);
            }
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListPop { end } => {
            let popped = match end {
                End::Front => l.pop_front(),
                End::Back => l.pop_back(),
            };
            match popped {
                Some(value) => {
                    *grown -= size(&value);
                    Reply::Popped {
                        value,
                        length: length(l.len()),
                    }
                }
                None => Reply::Missing,
            }
        }
        CollectionOp::ListFetch { range } => {
            Reply::Values(l.range(range.resolve(l.len())).cloned().collect())
        }
        CollectionOp::ListLength => Reply::Length(length(l.len())),
        CollectionOp::ListRemove { value } => {
            l.retain(|v| {
                let keep = v.as_ref() != value;
                if !keep {
                    *grown -= size(v);
                }
                keep
            });
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListErase { ranges } => {
            match ranges {
                None => l.clear(),
                Some(ranges) => {
                    // One pass, whatever the ranges (sorted once).
                    let spans = erased_ranges(ranges, l.len());
                    let (mut i, mut cursor) = (0usize, 0usize);
                    l.retain(|v| {
                        let erased = is_erased(&spans, &mut cursor, i);
                        i += 1;
                        if erased {
                            *grown -= size(v);
                        }
                        !erased
                    });
                }
            }
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListRetain { range, .. } => {
            let keep = range.resolve(l.len());
            let kept: VecDeque<Bytes> = l.range(keep).cloned().collect();
            *grown += kept.iter().map(size).sum::<isize>() - l.iter().map(size).sum::<isize>();
            *l = kept;
            Reply::Length(length(l.len()))
        }
        _ => return Err(wrong_type()),
    })
}
