//! Which Athena query answered which SQL, kept in the cache directory: the same question
//! asked again reads the results of the query that answered it (GetQueryResults of its id)
//! instead of scanning the archive again, for as long as Athena keeps them.

use super::AthenaConfig;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// A query's results are looked for again for this long (Athena keeps query history 45 days).
pub const KEEP_MS: i64 = 7 * 86_400_000;
/// The most SQL texts remembered (the oldest go first).
const MOST: usize = 500;
const FILE: &str = "athena-queries.json";

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Entry {
    id: String,
    at_ms: i64,
}

/// The remembered queries; nothing when there is no cache.
pub struct Remembered {
    path: Option<PathBuf>,
    map: Mutex<BTreeMap<String, Entry>>,
}

/// What makes the same SQL the same question: where it is asked and by whom.
pub fn scope(cfg: &AthenaConfig) -> String {
    let c = &cfg.connect;
    format!(
        "{}|{}|{}|{}|{}",
        c.endpoint_url.as_deref().unwrap_or("aws"),
        c.profile.as_deref().unwrap_or(""),
        c.region.as_deref().unwrap_or(""),
        cfg.workgroup.as_deref().unwrap_or("primary"),
        cfg.names().0.unwrap_or_default()
    )
}

fn key(scope: &str, sql: &str) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(scope.as_bytes());
    ctx.update(&[0]);
    ctx.update(sql.as_bytes());
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

impl Remembered {
    /// Reads what is remembered under the cache directory (a damaged file is started afresh).
    pub fn open(cache: Option<&crate::cache::CacheConfig>) -> Remembered {
        let path = cache.map(|c| c.dir.join(FILE));
        let map = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<BTreeMap<String, Entry>>(&b).ok())
            .unwrap_or_default();
        Remembered { path, map: Mutex::new(map) }
    }

    /// The query that answered `sql` in `scope`, if recent enough.
    pub fn get(&self, scope: &str, sql: &str) -> Option<String> {
        let now = crate::model::time::now_ms();
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key(scope, sql)).filter(|e| now - e.at_ms < KEEP_MS).map(|e| e.id.clone())
    }

    /// Remembers that `id` answered `sql` in `scope` (written at once; a failure to write only
    /// means it is not remembered).
    pub fn put(&self, scope: &str, sql: &str, id: &str) {
        let Some(path) = &self.path else { return };
        let now = crate::model::time::now_ms();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key(scope, sql), Entry { id: id.to_string(), at_ms: now });
        map.retain(|_, e| now - e.at_ms < KEEP_MS);
        while map.len() > MOST {
            let oldest = map.iter().min_by_key(|(_, e)| e.at_ms).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        let Ok(bytes) = serde_json::to_vec(&*map) else { return };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
            // Written whole beside, then moved over: a crash leaves the old file or the new one.
            if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
                use std::io::Write;
                if tmp.write_all(&bytes).is_ok() {
                    let _ = tmp.persist(path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_sql_in_the_same_place_is_remembered_and_a_damaged_file_is_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let cache = crate::cache::CacheConfig { dir: dir.path().to_path_buf(), max_bytes: 1 << 30 };
        let r = Remembered::open(Some(&cache));
        assert_eq!(r.get("a", "SELECT 1"), None);
        r.put("a", "SELECT 1", "q1");
        let r = Remembered::open(Some(&cache));
        assert_eq!(r.get("a", "SELECT 1").as_deref(), Some("q1"));
        assert_eq!(r.get("b", "SELECT 1"), None, "another workgroup or account is another question");
        assert_eq!(r.get("a", "SELECT 2"), None);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let r = Remembered::open(Some(&cache));
        assert_eq!(r.get("a", "SELECT 1"), None);
        r.put("a", "SELECT 1", "q2");
        assert_eq!(Remembered::open(Some(&cache)).get("a", "SELECT 1").as_deref(), Some("q2"));
    }
}
