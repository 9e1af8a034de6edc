//! The compact, in-memory form of events.
//!
//! A loaded event is an [`Event`]: a timestamp, interned symbols for the fields that repeat
//! (names, sources, regions, principals), those that repeat together (name, source, region,
//! accounts, error…) as one [`Profile`] index, a 32-bit hash of its event and request ids (see
//! [`id`]), and a [`RawLoc`] saying where its raw record lives, so the raw JSON is fetched back
//! only when the detail view or `print` needs it.

pub mod columns;
pub mod detect;
pub mod events;
pub mod id;
pub mod intern;
pub mod raw;
pub mod record;
pub mod scan;
pub mod segments;
pub mod slots;
pub mod summary;
pub mod time;
pub mod wire;

pub use events::EventStore;
pub use intern::{Interner, Sym, SymTable, EMPTY};

/// Fields stored as interned symbols. The first [`CALLER_FIELDS`] say who called and are kept
/// once per distinct combination, the event's [`Caller`]; the next [`OWN_FIELDS`] vary from
/// event to event and are kept in each [`Event`]; the rest repeat together (an API call's name and source, a
/// region, an account, an error code…) and are kept once per distinct combination, the
/// event's [`Profile`]: a million events of an account have tens of thousands of those.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SymField {
    /// The principal shown in the list: userName, else the ARN's last part, else invokedBy.
    Principal,
    /// userIdentity.arn
    Arn,
    /// userIdentity.accessKeyId
    AccessKey,
    /// sourceIPAddress
    Ip,
    /// userAgent
    Agent,
    /// eventName (for Insights events, the insight's event name)
    Name,
    /// eventSource (short, without `.amazonaws.com`)
    Source,
    /// awsRegion
    Region,
    /// userIdentity.type
    IdentityType,
    /// recipientAccountId
    Account,
    /// userIdentity.accountId
    IdentityAccount,
    /// errorCode
    Error,
    /// eventCategory
    Category,
    /// eventType
    EventType,
}

/// How many fields are interned.
pub const SYM_FIELDS: usize = 14;
/// Fields of who called, kept once per distinct combination (an event's [`Caller`]):
/// [`SymField`]s below this. A principal keeps its ARN and, mostly, a handful of access keys,
/// so a million events have some hundred thousand callers where they have a million events.
pub const CALLER_FIELDS: usize = 3;
/// Fields kept in each event: the [`SymField`]s after the caller's, below
/// [`CALLER_FIELDS`]` + OWN_FIELDS` (the source address and the user agent).
pub const OWN_FIELDS: usize = 2;
/// How many fields an event's profile holds: the rest.
pub const PROFILE_FIELDS: usize = SYM_FIELDS - CALLER_FIELDS - OWN_FIELDS;
/// The symbols of an event's profile fields, in [`SymField`] order from [`SymField::Name`].
pub type Profile = [Sym; PROFILE_FIELDS];
/// The symbols of an event's caller fields, in [`SymField`] order from [`SymField::Principal`].
pub type Caller = [Sym; CALLER_FIELDS];

/// Where a field is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Kept in the event's caller, at this index.
    Caller(usize),
    /// Kept in each event, at this index of [`Event::own`].
    Own(usize),
    /// Kept in the event's profile, at this index.
    Profile(usize),
}

impl SymField {
    #[inline]
    /// Where the field is kept.
    pub const fn slot(self) -> Slot {
        let i = self as usize;
        if i < CALLER_FIELDS {
            Slot::Caller(i)
        } else if i < CALLER_FIELDS + OWN_FIELDS {
            Slot::Own(i - CALLER_FIELDS)
        } else {
            Slot::Profile(i - CALLER_FIELDS - OWN_FIELDS)
        }
    }
}

/// What log file verification (the trail's signed digests) found for one input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FileVerdict {
    /// Not verified (no digests, verification not run or not finished, not a trail log file).
    #[default]
    Unchecked,
    /// Its SHA-256 is the one a validly signed digest lists.
    Valid,
    /// Its content differs from what the digest lists, or its digest is not valid.
    Altered,
    /// No digest that was checked lists it (added after delivery, or its digest is missing).
    NotCovered,
}

impl FileVerdict {
    /// Verification found something wrong with it.
    pub fn failed(self) -> bool {
        matches!(self, FileVerdict::Altered | FileVerdict::NotCovered)
    }
    /// ✓ valid, ✗ altered, ? not covered or not checked.
    pub fn badge(self) -> &'static str {
        match self {
            FileVerdict::Valid => "✓",
            FileVerdict::Altered => "✗",
            FileVerdict::NotCovered | FileVerdict::Unchecked => "?",
        }
    }
    /// The verdict in words, for the detail view's title.
    pub fn describe(self) -> &'static str {
        match self {
            FileVerdict::Valid => "verified",
            FileVerdict::Altered => "altered",
            FileVerdict::NotCovered => "not covered by a digest",
            FileVerdict::Unchecked => "not checked",
        }
    }
}

/// Where an event's raw record lives: 8 bytes, since there is one per event. The record is
/// the JSON value that starts at the offset; where it ends is found again when it is read
/// back ([`scan::value_end`]). A value that starts with `"` is a JSON string literal holding
/// the record (lookup-events output's `CloudTrailEvent`), not the record object itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawLoc {
    /// Index into the store's file table.
    pub file: u32,
    /// Byte offset in the decompressed content of the file (content is at most 4 GiB - 1).
    pub offset: u32,
}

impl RawLoc {
    /// The record that starts at `offset` of `file`.
    pub fn new(file: u32, offset: u32) -> Self {
        RawLoc { file, offset }
    }
}

/// [`Event::flags`]: readOnly is known.
pub const FLAG_READONLY_KNOWN: u8 = 1;
/// [`Event::flags`]: readOnly is true.
pub const FLAG_READONLY: u8 = 2;
/// The event has an errorCode (kept here too, so the list marks errors without its profile).
pub const FLAG_ERROR: u8 = 4;

/// [`Event::flags`]: the record holds more resource strings than the index keeps (see
/// [`record::MAX_PARAMS`]); `resource:` reads the record itself.
pub const FLAG_MORE_RESOURCES: u8 = 8;

/// [`Event::flags`]: the query's `text:` terms were decided where the record was parsed
/// (`print`; see `query::matcher::TextTerms`).
pub const FLAG_TEXT_DECIDED: u8 = 16;
/// [`Event::flags`]: with [`FLAG_TEXT_DECIDED`], the record passed them.
pub const FLAG_TEXT_PASSED: u8 = 32;

/// Bits of [`Event::res_counts`] that count resource ARNs.
pub const RES_ARN_BITS: u32 = 6;
/// Bits of [`Event::res_counts`] in all (ARNs and requestParameters strings).
const RES_COUNT_BITS: u32 = 15;
/// The most resource ARNs an event's part of the resource index holds.
pub const MAX_RES_ARNS: u16 = (1 << RES_ARN_BITS) - 1;
/// The most requestParameters strings an event's part of the resource index holds.
pub const MAX_RES_PARAMS: usize = (1 << (RES_COUNT_BITS - RES_ARN_BITS)) - 1;
/// Bits of the event's packed word that hold its flags.
const FLAG_BITS: u32 = 6;
/// Where the time starts in the event's packed word: above the counts and the flags.
const TIME_SHIFT: u32 = RES_COUNT_BITS + FLAG_BITS;
/// The packed time that stands for [`NO_TIME`]: the least of its 43 bits. Times an event
/// holds are within 2^42 ms of the epoch either way (about 139 years: 1830 to 2109).
const PACKED_NO_TIME: i64 = -(1 << (63 - TIME_SHIFT));

/// Sentinel for a record whose eventTime is missing or unreadable; sorts oldest.
pub const NO_TIME: i64 = i64::MIN;

/// One loaded event: 44 bytes, a million of them in 44 MB. The default is an event at time 0
/// with no field, id or resource, its record empty at the start of the first file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Event {
    /// Its time, its resource counts and its flags, in one 64-bit word kept as two halves (so
    /// that the event is aligned to 4 bytes: 44, not 48): from the high bits, the time (43
    /// bits, see [`Event::time`]), the counts (15, [`Event::res_counts`]) and the flags (6,
    /// [`Event::flags`]). Read and set through those methods.
    pub(crate) packed: [u32; 2],
    /// Index in the store's profile table.
    pub profile: u32,
    /// Index in the store's caller table.
    pub caller: u32,
    /// The fields kept in the event (see [`Slot::Own`]).
    pub own: [Sym; OWN_FIELDS],
    /// The eventID's [`id::hash32`] (0: none); its text is the record's.
    pub id_hash: u32,
    /// The requestID's [`id::hash32`] (0: none); its text is the record's.
    pub request_hash: u32,
    /// Where the event's part of the store's resource index starts: its resource ARNs, then
    /// the string values of its requestParameters.
    pub res_start: u32,
    /// Where the raw record is read back from.
    pub loc: RawLoc,
}

impl Event {
    #[inline]
    fn word(&self) -> u64 {
        (self.packed[1] as u64) << 32 | self.packed[0] as u64
    }
    #[inline]
    fn set_word(&mut self, w: u64) {
        self.packed = [w as u32, (w >> 32) as u32];
    }
    /// Milliseconds since the Unix epoch, or [`NO_TIME`].
    #[inline]
    pub fn time(&self) -> i64 {
        match (self.word() as i64) >> TIME_SHIFT {
            PACKED_NO_TIME => NO_TIME,
            t => t,
        }
    }
    /// Sets the time: [`NO_TIME`] for one an event cannot hold (see [`Event::holds_time`]).
    pub fn set_time(&mut self, time: i64) {
        let t = if Self::holds_time(time) { time } else { PACKED_NO_TIME };
        let low = self.word() & ((1 << TIME_SHIFT) - 1);
        self.set_word(low | (t as u64) << TIME_SHIFT);
    }
    /// The event with its time set ([`Event::set_time`]).
    pub fn timed(mut self, time: i64) -> Self {
        self.set_time(time);
        self
    }
    /// Whether an event holds `time` as it is: within about 139 years of 1970 (1830 to 2109).
    /// Any other is held as [`NO_TIME`], as a time that cannot be read.
    pub fn holds_time(time: i64) -> bool {
        time > PACKED_NO_TIME && time < -PACKED_NO_TIME
    }
    /// How many resource ARNs (the low [`RES_ARN_BITS`] bits) and requestParameters strings
    /// (the rest) from `res_start`; see [`Event::res_len`] and [`Event::par_len`].
    #[inline]
    pub fn res_counts(&self) -> u16 {
        ((self.word() >> FLAG_BITS) & ((1 << RES_COUNT_BITS) - 1)) as u16
    }
    /// Sets the counts ([`Event::pack_res_counts`]).
    pub fn set_res_counts(&mut self, counts: u16) {
        debug_assert!(counts < 1 << RES_COUNT_BITS);
        let mask = ((1u64 << RES_COUNT_BITS) - 1) << FLAG_BITS;
        self.set_word(self.word() & !mask | ((counts as u64) << FLAG_BITS) & mask);
    }
    /// [`FLAG_READONLY_KNOWN`], [`FLAG_READONLY`], [`FLAG_ERROR`], [`FLAG_MORE_RESOURCES`],
    /// [`FLAG_TEXT_DECIDED`], [`FLAG_TEXT_PASSED`].
    #[inline]
    pub fn flags(&self) -> u8 {
        (self.word() & ((1 << FLAG_BITS) - 1)) as u8
    }
    /// Sets `flags` besides those it has.
    pub fn add_flags(&mut self, flags: u8) {
        self.set_word(self.word() | (flags as u64 & ((1 << FLAG_BITS) - 1)));
    }
    /// readOnly, when the record says.
    pub fn read_only(&self) -> Option<bool> {
        (self.flags() & FLAG_READONLY_KNOWN != 0).then_some(self.flags() & FLAG_READONLY != 0)
    }
    /// A failed call (errorCode set).
    pub fn is_error(&self) -> bool {
        self.flags() & FLAG_ERROR != 0
    }
    /// A write: a call that is known not to be read-only.
    pub fn is_write(&self) -> bool {
        self.read_only() == Some(false)
    }
    /// Whether the record has a non-empty eventID.
    pub fn has_event_id(&self) -> bool {
        self.id_hash != 0
    }
    /// Whether the record has a non-empty requestID.
    pub fn has_request_id(&self) -> bool {
        self.request_hash != 0
    }
    /// How many resource ARNs the event's part of the resource index starts with.
    #[inline]
    pub fn res_len(&self) -> usize {
        (self.res_counts() & MAX_RES_ARNS) as usize
    }
    /// How many requestParameters strings follow the ARNs in the resource index.
    #[inline]
    pub fn par_len(&self) -> usize {
        (self.res_counts() >> RES_ARN_BITS) as usize
    }
    /// The counts of [`Event::res_counts`]: at most [`MAX_RES_ARNS`] ARNs and
    /// [`MAX_RES_PARAMS`] strings (a record that holds more is flagged
    /// [`FLAG_MORE_RESOURCES`]).
    pub fn pack_res_counts(arns: usize, params: usize) -> u16 {
        debug_assert!(arns <= MAX_RES_ARNS as usize && params <= MAX_RES_PARAMS);
        (arns as u16 & MAX_RES_ARNS) | ((params as u16) << RES_ARN_BITS)
    }
    /// How many strings of the resource index the event holds (ARNs and requestParameters).
    pub fn res_total(&self) -> usize {
        self.res_len() + self.par_len()
    }
    /// Newest first; ties broken by where the record lives, so order is deterministic.
    #[inline]
    pub fn order_key(&self) -> (std::cmp::Reverse<i64>, u32, u32) {
        (std::cmp::Reverse(self.time()), self.loc.file, self.loc.offset)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_stays_small() {
        // A million of them are the bulk of a loaded archive's memory.
        assert_eq!(std::mem::size_of::<super::Event>(), 44);
        assert_eq!(std::mem::size_of::<super::RawLoc>(), 8);
    }

    #[test]
    fn time_counts_and_flags_are_packed_apart() {
        use super::*;
        let day = 86_400_000i64;
        let last = (1i64 << 42) - 1;
        let times = [0, 1, -1, 1_767_225_600_000, -day, 4_102_444_800_000, last, -last, NO_TIME];
        let counts =
            [0, 1, Event::pack_res_counts(MAX_RES_ARNS as usize, MAX_RES_PARAMS), Event::pack_res_counts(3, 7)];
        let flags = [0, FLAG_ERROR | FLAG_TEXT_PASSED, 63];
        for &t in &times {
            for &c in &counts {
                for &f in &flags {
                    // Set in every order: none of them disturbs the others.
                    let mut a = Event::default();
                    a.set_time(t);
                    a.set_res_counts(c);
                    a.add_flags(f);
                    let mut b = Event::default();
                    b.add_flags(f);
                    b.set_res_counts(c);
                    b.set_time(t);
                    for e in [a, b] {
                        assert_eq!((e.time(), e.res_counts(), e.flags()), (t, c, f), "{t} {c} {f}");
                    }
                    assert_eq!(a.order_key(), b.order_key());
                }
            }
        }
        assert_eq!(Event::default().time(), 0);
        // About 139 years either side of 1970; beyond, a time is held as none (sorted last).
        for t in [last + 1, -last - 1, i64::MAX, i64::MIN + 1, -62_167_219_200_000, 253_402_300_799_000] {
            assert!(!Event::holds_time(t), "{t}");
            assert_eq!(Event::default().timed(t).time(), NO_TIME, "{t}");
        }
        assert_eq!(MAX_RES_PARAMS, 511);
        // The order of times is the order of the packed events.
        let mut sorted: Vec<i64> = times.to_vec();
        sorted.sort_unstable_by_key(|&t| std::cmp::Reverse(t));
        let mut evs: Vec<Event> = times.iter().map(|&t| Event::default().timed(t)).collect();
        evs.sort_unstable_by_key(|e| e.order_key());
        assert_eq!(evs.iter().map(|e| e.time()).collect::<Vec<_>>(), sorted);
    }
}
