//! Small vectored writes sent as one plain write.
//!
//! hyper writes an HTTP/1 response as its head and its body, two buffers of
//! one vectored write (`writev`); a small answer (a GET hit's head and value)
//! costs the kernel less as one buffer (`write`: 0.1-0.3 µs less a response
//! on loopback, docs/PERFORMANCE.md). The buffers of a write of at most
//! [`MAX_BYTES`] in all are copied into one on the stack (no connection holds
//! a buffer for it); larger writes go out as they came. A partial write is
//! reported as the count the kernel took, as a vectored write's would be: the
//! caller sends the rest again.

use std::io::IoSlice;

/// The most bytes a write may hold in all to be copied into one buffer.
pub(super) const MAX_BYTES: usize = 2048;

/// Writes up to this size (a response head and a value of a few hundred
/// bytes) use a smaller buffer: the buffer is zeroed before the copy, and
/// zeroing 2 KiB was a tenth of the copy's cost (docs/PERFORMANCE.md).
const SMALL_BYTES: usize = 512;

/// Writes `bufs` with `write_one` if they are several and small, copied into
/// one buffer; otherwise `None` (the caller writes them vectored).
pub(super) fn write<T>(bufs: &[IoSlice<'_>], write_one: impl FnOnce(&[u8]) -> T) -> Option<T> {
    // The size first: a large write costs no zeroing and no copy.
    let len: usize = bufs.iter().map(|b| b.len()).sum();
    if bufs.len() < 2 || len > MAX_BYTES {
        return None;
    }
    Some(if len <= SMALL_BYTES {
        write_one(joined(&mut [0u8; SMALL_BYTES], bufs))
    } else {
        write_one(joined(&mut [0u8; MAX_BYTES], bufs))
    })
}

/// `bufs` (at most `one`'s length in all) copied into `one`.
fn joined<'a>(one: &'a mut [u8], bufs: &[IoSlice<'_>]) -> &'a [u8] {
    let mut at = 0;
    for buf in bufs {
        one[at..at + buf.len()].copy_from_slice(buf);
        at += buf.len();
    }
    &one[..at]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices<'a>(parts: &'a [&'a [u8]]) -> Vec<IoSlice<'a>> {
        parts.iter().map(|p| IoSlice::new(p)).collect()
    }

    #[test]
    fn several_small_buffers_are_written_as_one_in_order() {
        let written = write(
            &slices(&[b"HTTP/1.1 200 OK\r\n\r\n", b"", b"value"]),
            <[u8]>::to_vec,
        );
        assert_eq!(
            written.as_deref(),
            Some(&b"HTTP/1.1 200 OK\r\n\r\nvalue"[..])
        );
        // Both buffers, each filled to its last byte.
        let small = vec![7u8; SMALL_BYTES - 1];
        let written = write(&slices(&[&small, b"y"]), <[u8]>::to_vec).unwrap();
        assert_eq!(written.len(), SMALL_BYTES);
        assert_eq!(written.last(), Some(&b'y'));
        let written = write(&slices(&[&small, b"yz"]), <[u8]>::to_vec).unwrap();
        assert_eq!(&written[SMALL_BYTES - 1..], b"yz");
        let exactly = vec![7u8; MAX_BYTES - 1];
        let written = write(&slices(&[&exactly, b"x"]), <[u8]>::len);
        assert_eq!(written, Some(MAX_BYTES));
    }

    #[test]
    fn one_buffer_or_a_large_write_goes_out_as_it_came() {
        assert_eq!(write(&slices(&[b"one"]), <[u8]>::len), None);
        assert_eq!(write(&slices(&[]), <[u8]>::len), None);
        let large = vec![7u8; MAX_BYTES];
        assert_eq!(write(&slices(&[b"head", &large]), <[u8]>::len), None);
        let halves = vec![7u8; MAX_BYTES / 2 + 1];
        assert_eq!(write(&slices(&[&halves, &halves]), <[u8]>::len), None);
    }
}
