//! String interning for repeating event fields.

use std::sync::Arc;

pub type Sym = u32;
/// The empty string: a field that is absent, null or empty.
pub const EMPTY: Sym = 0;

/// Symbol id to string. Append-only, so a consumer can mirror a producer's table by
/// appending the strings the producer reports as new.
#[derive(Debug, Clone)]
pub struct SymTable {
    strings: Vec<Arc<str>>,
}

impl Default for SymTable {
    fn default() -> Self {
        Self { strings: vec![Arc::from("")] }
    }
}

impl SymTable {
    #[inline]
    pub fn get(&self, sym: Sym) -> &str {
        self.strings.get(sym as usize).map(|s| &**s).unwrap_or("")
    }
    pub fn len(&self) -> usize {
        self.strings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }
    pub fn extend(&mut self, new: impl IntoIterator<Item = Arc<str>>) {
        self.strings.extend(new);
    }
    pub fn iter(&self) -> impl Iterator<Item = (Sym, &str)> {
        self.strings.iter().enumerate().map(|(i, s)| (i as Sym, &**s))
    }
}

/// String to symbol, with the table it fills.
#[derive(Debug, Default)]
pub struct Interner {
    // Seeded per process: event text is attacker-controlled, so no precomputed collisions.
    map: foldhash::HashMap<Arc<str>, Sym>,
    table: SymTable,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if s.is_empty() {
            return EMPTY;
        }
        if let Some(&sym) = self.map.get(s) {
            return sym;
        }
        let sym = self.table.strings.len() as Sym;
        let arc: Arc<str> = Arc::from(s);
        self.table.strings.push(arc.clone());
        self.map.insert(arc, sym);
        sym
    }
    pub fn table(&self) -> &SymTable {
        &self.table
    }
    /// The strings interned since the table had `from` entries.
    pub fn since(&self, from: usize) -> Vec<Arc<str>> {
        self.table.strings[from.min(self.table.strings.len())..].to_vec()
    }
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_mirrorable() {
        let mut i = Interner::default();
        assert_eq!(i.intern(""), EMPTY);
        let a = i.intern("DeleteBucket");
        let b = i.intern("GetObject");
        assert_eq!(i.intern("DeleteBucket"), a);
        assert_ne!(a, b);
        let mut mirror = SymTable::default();
        mirror.extend(i.since(mirror.len()));
        assert_eq!(mirror.get(a), "DeleteBucket");
        assert_eq!(mirror.get(b), "GetObject");
        assert_eq!(mirror.get(999), "");
    }
}
