//! What the store keeps of trail archives in S3: listings (with when they were taken, so a
//! listing that is complete for a window is never taken again), objects as fetched
//! (compressed) by bucket, key and ETag, under the store's size limit, and each bucket's region.
//!
//! A site is where the bucket lives: `aws`, or an S3-compatible endpoint (a test server is not
//! AWS, and two endpoints may have buckets of the same name).

use rusqlite::{params, Connection, OptionalExtension};

/// One level of a listing: sub-directories and objects (key, ETag, size).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredListing {
    /// When it was listed, in ms since the epoch.
    pub listed_ms: i64,
    /// Sub-directories, ending in `/`.
    pub dirs: Vec<String>,
    /// Objects: key, ETag, size.
    pub objects: Vec<(String, String, i64)>,
}

/// The stored listing of `prefix`, if any.
pub fn listing(conn: &Connection, site: &str, bucket: &str, prefix: &str) -> rusqlite::Result<Option<StoredListing>> {
    let mut st = conn.prepare_cached(
        "SELECT listed_ms, dirs, objects FROM s3_listings WHERE site = ?1 AND bucket = ?2 AND prefix = ?3",
    )?;
    let row = st
        .query_row(params![site, bucket, prefix], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .optional()?;
    // A row that does not decode is as good as none: the prefix is listed again.
    Ok(row.and_then(|(listed_ms, dirs, objects)| {
        Some(StoredListing {
            listed_ms,
            dirs: serde_json::from_str(&dirs).ok()?,
            objects: serde_json::from_str(&objects).ok()?,
        })
    }))
}

/// Keeps a listing (replacing an older one of the same prefix).
pub fn put_listing(
    conn: &Connection,
    site: &str,
    bucket: &str,
    prefix: &str,
    l: &StoredListing,
) -> rusqlite::Result<()> {
    let dirs = serde_json::to_string(&l.dirs).unwrap_or_else(|_| "[]".into());
    let objects = serde_json::to_string(&l.objects).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT OR REPLACE INTO s3_listings (site, bucket, prefix, listed_ms, dirs, objects) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![site, bucket, prefix, l.listed_ms, dirs, objects])?;
    Ok(())
}

/// An object's bytes as fetched, if stored with this ETag (any ETag when `etag` is empty:
/// keys found elsewhere come without one, and trail objects are never rewritten). Marks it used.
pub fn object(conn: &Connection, site: &str, bucket: &str, key: &str, etag: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    let mut st = conn.prepare_cached(
        "SELECT bytes FROM s3_objects WHERE site = ?1 AND bucket = ?2 AND key = ?3 AND (?4 = '' OR etag = ?4)",
    )?;
    let bytes: Option<Vec<u8>> = st.query_row(params![site, bucket, key, etag], |r| r.get(0)).optional()?;
    if bytes.is_some() {
        conn.prepare_cached("UPDATE s3_objects SET used_ms = ?4 WHERE site = ?1 AND bucket = ?2 AND key = ?3")?
            .execute(params![site, bucket, key, crate::model::time::now_ms()])?;
    }
    Ok(bytes)
}

/// Keeps an object's bytes as fetched.
pub fn put_object(
    conn: &Connection,
    site: &str,
    bucket: &str,
    key: &str,
    etag: &str,
    bytes: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO s3_objects (site, bucket, key, etag, used_ms, size, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![site, bucket, key, etag, crate::model::time::now_ms(), bytes.len() as i64, bytes])?;
    Ok(())
}

/// The region a bucket was found in.
pub fn bucket_region(conn: &Connection, site: &str, bucket: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT region FROM s3_buckets WHERE site = ?1 AND bucket = ?2")?
        .query_row(params![site, bucket], |r| r.get(0))
        .optional()
}

/// Remembers a bucket's region, per endpoint (`site`).
pub fn put_bucket_region(conn: &Connection, site: &str, bucket: &str, region: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO s3_buckets (site, bucket, region) VALUES (?1, ?2, ?3)")?
        .execute(params![site, bucket, region])?;
    Ok(())
}

/// Bytes of stored objects.
pub fn object_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT coalesce(sum(size), 0) FROM s3_objects", [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
}

/// Drops the least recently used objects until their bytes are under `budget`; returns how many.
pub fn evict(conn: &Connection, budget: u64) -> rusqlite::Result<u64> {
    let mut total = object_bytes(conn)?;
    let mut removed = 0;
    if total <= budget {
        return Ok(0);
    }
    let victims: Vec<(String, String, String, i64)> = {
        let mut st = conn.prepare("SELECT site, bucket, key, size FROM s3_objects ORDER BY used_ms")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut del = conn.prepare_cached("DELETE FROM s3_objects WHERE site = ?1 AND bucket = ?2 AND key = ?3")?;
    for (site, bucket, key, size) in victims {
        if total <= budget {
            break;
        }
        del.execute(params![site, bucket, key])?;
        total = total.saturating_sub(size as u64);
        removed += 1;
    }
    Ok(removed)
}

/// (listings, objects, bytes of objects) stored.
pub fn counts(conn: &Connection) -> rusqlite::Result<(u64, u64, u64)> {
    let listings: i64 = conn.query_row("SELECT count(*) FROM s3_listings", [], |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM s3_objects", [], |r| r.get(0))?;
    Ok((listings as u64, objects as u64, object_bytes(conn)?))
}

pub(crate) fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("DELETE FROM s3_listings; DELETE FROM s3_objects; DELETE FROM s3_buckets;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_objects_and_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::cache::Store::open(dir.path(), &mut Vec::new()).unwrap();
        let c = store.conn();
        assert_eq!(listing(c, "aws", "b", "AWSLogs/").unwrap(), None);
        let l = StoredListing {
            listed_ms: 5,
            dirs: vec!["AWSLogs/1/".into()],
            objects: vec![("k\nwith newline".into(), "\"e1\"".into(), 3)],
        };
        put_listing(c, "aws", "b", "AWSLogs/", &l).unwrap();
        assert_eq!(listing(c, "aws", "b", "AWSLogs/").unwrap(), Some(l));
        assert_eq!(listing(c, "http://127.0.0.1:1", "b", "AWSLogs/").unwrap(), None, "another site");
        put_object(c, "aws", "b", "k1", "\"e1\"", &[1; 100]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        put_object(c, "aws", "b", "k2", "\"e2\"", &[2; 100]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(object(c, "aws", "b", "k1", "\"e1\"").unwrap(), Some(vec![1; 100]));
        assert_eq!(object(c, "aws", "b", "k1", "\"other\"").unwrap(), None, "a rewritten object is fetched again");
        assert_eq!(object(c, "aws", "b", "k1", "").unwrap(), Some(vec![1; 100]), "keys without an ETag");
        // k1 was used last: k2 goes first.
        assert_eq!(evict(c, 150).unwrap(), 1);
        assert!(object(c, "aws", "b", "k2", "").unwrap().is_none());
        assert_eq!(counts(c).unwrap(), (1, 1, 100));
        put_bucket_region(c, "aws", "b", "eu-west-1").unwrap();
        assert_eq!(bucket_region(c, "aws", "b").unwrap().as_deref(), Some("eu-west-1"));
        clear(c).unwrap();
        assert_eq!(counts(c).unwrap(), (0, 0, 0));
    }
}
