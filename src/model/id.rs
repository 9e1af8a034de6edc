//! Event and request ids, kept out of the event.
//!
//! An id is 16 random bytes at least (a UUID), which nothing compresses: kept whole, the two
//! ids were 32 of an event's 72 bytes. An [`Event`](super::Event) keeps a 32-bit hash of each
//! ([`hash32`]), which answers an exact term (`id:=…`, `request:=…`) for every event without
//! reading a record; the text itself is read from the record when it is shown, copied,
//! pivoted on, confirmed for an exact term, or matched by any other pattern.

use super::record::Lenient;
use serde::Deserialize;

/// The hash that finds copies of an event by its eventID `text`, as written: odd, and 0 for
/// none (an event without an eventID is never a copy).
pub fn copy_hash(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    xxhash_rust::xxh3::xxh3_64(text.as_bytes()) | 1
}

/// The 32-bit hash an event keeps of an id whose [`copy_hash`] is `copy`: odd, and 0 for none.
pub fn hash32_of_copy(copy: u64) -> u32 {
    if copy == 0 {
        0
    } else {
        (copy >> 32) as u32 | 1
    }
}

/// The 32-bit hash an event keeps of the id `text` (see [`hash32_of_copy`]).
pub fn hash32(text: &str) -> u32 {
    hash32_of_copy(copy_hash(text))
}

/// The ids of a record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Ids<'a> {
    #[serde(borrow, rename = "eventID")]
    event_id: Lenient<'a>,
    #[serde(borrow, rename = "requestID")]
    request_id: Lenient<'a>,
}

/// The eventID and requestID of a record, as the loader reads them (see
/// [`Lenient::as_str`]); empty when absent or when `record` is not a JSON object.
pub fn ids_of_record(record: &[u8]) -> (String, String) {
    // (A struct also reads from an array, by position.)
    if record.trim_ascii_start().first() != Some(&b'{') {
        return Default::default();
    }
    match serde_json::from_slice::<Ids<'_>>(record) {
        Ok(ids) => (ids.event_id.as_str().to_string(), ids.request_id.as_str().to_string()),
        Err(_) => Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_the_record() {
        let rec = br#"{"eventVersion":"1.08","requestID":"3E57427F33A59F07","x":{"eventID":"no"},"eventID":"e9c43e6b-b039-4522-9cfe-087c2b8783b7"}"#;
        assert_eq!(
            ids_of_record(rec),
            ("e9c43e6b-b039-4522-9cfe-087c2b8783b7".to_string(), "3E57427F33A59F07".to_string())
        );
        assert_eq!(ids_of_record(br#"{"eventID":"a\u0041"}"#).0, "aA");
        assert_eq!(ids_of_record(br#"{"eventID":null}"#), Default::default());
        assert_eq!(ids_of_record(b"[1]"), Default::default());
    }

    #[test]
    fn hashes_say_none_only_for_no_id() {
        assert_eq!(copy_hash(""), 0);
        assert_eq!(hash32(""), 0);
        for s in ["a", "e9c43e6b-b039-4522-9cfe-087c2b8783b7", "E9C43E6B-B039-4522-9CFE-087C2B8783B7"] {
            assert_eq!(copy_hash(s) & 1, 1);
            assert_eq!(hash32(s) & 1, 1);
        }
        // The case of an id is part of it, as an exact term reads it.
        assert_ne!(hash32("abc"), hash32("ABC"));
    }
}
