//! The compact, in-memory form of events.
//!
//! A loaded event is an [`Event`]: a timestamp, interned symbols for the fields that repeat
//! (names, sources, regions, principals), references into a string arena for the ones that
//! do not (event and request ids), and a [`RawLoc`] saying where its raw record lives, so the
//! raw JSON is fetched back only when the detail view or `print` needs it.

pub mod columns;
pub mod intern;
pub mod record;
pub mod store;
pub mod time;

pub use intern::{Interner, Sym, SymTable, EMPTY};
pub use store::EventStore;

/// Fields stored as interned symbols, indexing [`Event::syms`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SymField {
    Name,
    Source,
    Region,
    /// The principal shown in the list: userName, else the ARN's last part, else invokedBy.
    Principal,
    Arn,
    IdentityType,
    AccessKey,
    Ip,
    /// recipientAccountId
    Account,
    /// userIdentity.accountId
    IdentityAccount,
    Error,
    Agent,
    Category,
    EventType,
}

pub const SYM_FIELDS: usize = 14;

/// A reference to a string in the store's arena of unique strings (event and request ids).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrRef {
    pub off: u32,
    pub len: u32,
}

/// Where an event's raw record lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawLoc {
    /// Index into the store's file table.
    pub file: u32,
    /// Byte offset in the decompressed content of the file.
    pub offset: u64,
    pub len: u32,
    /// The bytes are a JSON string literal holding the record (lookup-events output's
    /// `CloudTrailEvent`), not the record object itself.
    pub escaped: bool,
}

pub const FLAG_READONLY_KNOWN: u8 = 1;
pub const FLAG_READONLY: u8 = 2;

/// Sentinel for a record whose eventTime is missing or unreadable; sorts oldest.
pub const NO_TIME: i64 = i64::MIN;

#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Milliseconds since the Unix epoch, or [`NO_TIME`].
    pub time: i64,
    pub syms: [Sym; SYM_FIELDS],
    pub event_id: StrRef,
    pub request_id: StrRef,
    /// Range in the store's resource ARN list.
    pub res_start: u32,
    pub res_len: u32,
    pub loc: RawLoc,
    pub flags: u8,
}

impl Event {
    #[inline]
    pub fn sym(&self, f: SymField) -> Sym {
        self.syms[f as usize]
    }
    pub fn read_only(&self) -> Option<bool> {
        (self.flags & FLAG_READONLY_KNOWN != 0).then_some(self.flags & FLAG_READONLY != 0)
    }
    pub fn is_error(&self) -> bool {
        self.sym(SymField::Error) != EMPTY
    }
    /// A write: a call that is known not to be read-only.
    pub fn is_write(&self) -> bool {
        self.read_only() == Some(false)
    }
    /// Newest first; ties broken by where the record lives, so order is deterministic.
    #[inline]
    pub fn order_key(&self) -> (std::cmp::Reverse<i64>, u32, u64) {
        (std::cmp::Reverse(self.time), self.loc.file, self.loc.offset)
    }
}
