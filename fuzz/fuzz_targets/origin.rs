//! Fuzzes the proxy's reading of web servers' answers (`proxy::origin`):
//! no input may panic, a body is never longer than what was sent, and the
//! outcome is the same whether the answer arrives whole, a byte at a time,
//! or in pieces of any size, as reads from a socket would bring it.
//!
//! Input: one byte (bit 0: the request was a HEAD; the rest: a piece size
//! for the third reading), then the answer as the server sent it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proxy::origin::{OriginError, read_answer};

/// The outcome with the error's kind only (errors carry no position).
fn outcome(result: Result<(u16, Vec<u8>), OriginError>) -> Result<(u16, Vec<u8>), &'static str> {
    result.map_err(|e| match e {
        OriginError::Closed => "closed",
        OriginError::Malformed(_) => "malformed",
        OriginError::Io(_) => "io",
        OriginError::TimedOut => "timed out",
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, answer)) = data.split_first() else {
        return;
    };
    let head = first & 1 == 1;
    let piece = usize::from(first >> 1) + 1;
    let whole = outcome(read_answer(answer, head, usize::MAX));
    if let Ok((status, body)) = &whole {
        assert!((200..=999).contains(status), "status {status}");
        assert!(body.len() <= answer.len(), "a body longer than the answer");
        if head {
            assert!(body.is_empty(), "a body after HEAD");
        }
    }
    assert_eq!(outcome(read_answer(answer, head, 1)), whole, "byte by byte");
    assert_eq!(outcome(read_answer(answer, head, piece)), whole, "in pieces of {piece}");
});
