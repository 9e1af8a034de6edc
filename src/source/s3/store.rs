//! The local store as the S3 source uses it: listings that are complete for a window are
//! taken from it, objects are taken from it by bucket, key and ETag, and what is fetched is
//! kept (objects under the store's size limit).

use super::list::{Level, Listed, Listings};
use crate::cache::s3 as stored;
use crate::cache::{CacheConfig, Store};
use std::sync::Mutex;

/// The store, shared by the tasks of one load; `None` inside when it cannot be used.
pub struct S3Store {
    store: Mutex<Option<Store>>,
    site: String,
    bucket: String,
    offline: bool,
    max_bytes: u64,
    /// What the user should know about the store (it could not be opened or written).
    pub notes: Mutex<Vec<String>>,
}

/// Where a bucket lives, for the store's keys: `aws`, or the endpoint without user information.
pub fn site_of(endpoint: Option<&str>) -> String {
    let Some(url) = endpoint else { return "aws".into() };
    let url = url.split(['?', '#']).next().unwrap_or("");
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or("");
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}")
        }
        None => url.rsplit_once('@').map_or(url, |(_, h)| h).to_string(),
    }
}

impl S3Store {
    /// Opens the store for one bucket; a store that cannot be opened is a note, not an error.
    pub fn open(cfg: Option<&CacheConfig>, site: &str, bucket: &str, offline: bool) -> S3Store {
        let mut notes = Vec::new();
        let store = cfg.and_then(|c| match Store::open(&c.dir, &mut notes) {
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(format!("running without the cache: {e}"));
                None
            }
        });
        S3Store {
            store: Mutex::new(store),
            site: site.to_string(),
            bucket: bucket.to_string(),
            offline,
            max_bytes: cfg.map_or(0, |c| c.max_bytes),
            notes: Mutex::new(notes),
        }
    }

    fn with<T>(&self, what: &str, f: impl FnOnce(&mut Store) -> rusqlite::Result<T>) -> Option<T> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let store = guard.as_mut()?;
        match f(store) {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(format!("{what} failed, running without the cache: {e}"));
                *guard = None;
                None
            }
        }
    }

    fn note(&self, n: String) {
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).push(crate::sanitize::sanitize(&n).into_owned());
    }

    /// The bucket's region as the store remembers it.
    pub fn bucket_region(&self) -> Option<String> {
        self.with("reading the cache", |s| stored::bucket_region(s.conn(), &self.site, &self.bucket)).flatten()
    }

    /// Remembers the bucket's region (no HeadBucket next time).
    pub fn keep_bucket_region(&self, region: &str) {
        self.with("writing the cache", |s| stored::put_bucket_region(s.conn(), &self.site, &self.bucket, region));
    }

    /// An object as fetched before, if the store has it with this ETag.
    pub fn object(&self, key: &str, etag: &str) -> Option<Vec<u8>> {
        self.with("reading the cache", |s| stored::object(s.conn(), &self.site, &self.bucket, key, etag)).flatten()
    }

    /// Keeps an object as fetched, within the store's size limit.
    pub fn keep_object(&self, key: &str, etag: &str, bytes: &[u8]) {
        if self.max_bytes == 0 || bytes.len() as u64 > self.max_bytes / 4 {
            return;
        }
        self.with("writing the cache", |s| stored::put_object(s.conn(), &self.site, &self.bucket, key, etag, bytes));
    }

    /// Evicts objects (least recently used first) so that the store stays under its limit,
    /// leaving room for the rest of what it keeps.
    pub fn enforce_limit(&self) {
        let max = self.max_bytes;
        self.with("trimming the cache", |s| {
            let used = s.used_bytes().map_err(|_| rusqlite::Error::InvalidQuery)?;
            if used > max {
                let objects = stored::object_bytes(s.conn())?;
                let over = used - max;
                // Down to 80% of the limit, from the objects' share.
                let budget = objects.saturating_sub(over + max / 5);
                stored::evict(s.conn(), budget)?;
            }
            Ok(())
        });
    }
}

impl Listings for S3Store {
    fn stored(&self, prefix: &str, complete_after_ms: i64) -> Option<Level> {
        let l = self
            .with("reading the cache", |s| stored::listing(s.conn(), &self.site, &self.bucket, prefix))
            .flatten()?;
        (self.offline || l.listed_ms > complete_after_ms).then(|| Level {
            dirs: l.dirs,
            objects: l.objects.into_iter().map(|(key, etag, size)| Listed { key, etag, size }).collect(),
        })
    }

    fn keep(&self, prefix: &str, level: &Level, listed_ms: i64) {
        let l = stored::StoredListing {
            listed_ms,
            dirs: level.dirs.clone(),
            objects: level.objects.iter().map(|o| (o.key.clone(), o.etag.clone(), o.size)).collect(),
        };
        self.with("writing the cache", |s| stored::put_listing(s.conn(), &self.site, &self.bucket, prefix, &l));
    }

    fn offline(&self) -> bool {
        self.offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_lose_user_information() {
        assert_eq!(site_of(None), "aws");
        assert_eq!(site_of(Some("http://u:pw@127.0.0.1:4566/x?y")), "http://127.0.0.1:4566");
    }

    #[test]
    fn a_listing_is_reused_only_when_complete_for_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = CacheConfig { dir: dir.path().to_path_buf(), max_bytes: 1 << 30 };
        let s = S3Store::open(Some(&cfg), "aws", "b", false);
        let level = Level { dirs: vec!["AWSLogs/1/".into()], objects: vec![] };
        s.keep("AWSLogs/", &level, 1000);
        assert_eq!(s.stored("AWSLogs/", 999), Some(level.clone()));
        assert_eq!(s.stored("AWSLogs/", 1000), None, "listed before the window's last delivery");
        let offline = S3Store::open(Some(&cfg), "aws", "b", true);
        assert_eq!(offline.stored("AWSLogs/", 5000), Some(level), "offline takes what there is");
        s.keep_object("k", "\"e\"", b"bytes");
        assert_eq!(s.object("k", "\"e\"").as_deref(), Some(&b"bytes"[..]));
        assert!(s.notes.lock().unwrap().is_empty());
    }
}
