//! Reading the store: a lookup's events within a window, in the shape the loader reads, and
//! what `trailscope cache stats` shows.

use super::coverage::TimeSpan;
use super::{coverage_of, files, used_bytes, LookupKey, Result, Stats, Store};
use rusqlite::params;

impl Store {
    /// The events a lookup returned within `span`, newest first (then by EventId, as the
    /// service orders them), as lookup-events output
    /// bodies of at most `chunk` events each (at least one body, maybe empty).
    pub fn read_window(
        &self,
        lookup: i64,
        span: TimeSpan,
        chunk: usize,
        out: &mut dyn FnMut(Vec<u8>, usize),
    ) -> Result<usize> {
        // The index gives time order; ties (events of the same second) are put in EventId
        // order here rather than by SQLite, which would sort the whole window.
        let mut st = self.conn.prepare_cached(
            "SELECT e.event_id, e.event_name, e.time_ms, e.cloudtrail_event
             FROM lookup_events l JOIN events e ON e.id = l.event
             WHERE l.lookup = ?1 AND l.time_ms BETWEEN ?2 AND ?3
             ORDER BY l.time_ms DESC",
        )?;
        let mut rows = st.query(params![lookup, span.start, span.end])?;
        let mut body = LookupBody::new();
        let mut total = 0;
        let mut same_time: Vec<(String, String, i64, String)> = Vec::new();
        let mut flush = |same: &mut Vec<(String, String, i64, String)>, body: &mut LookupBody| {
            same.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, name, time, record) in same.drain(..) {
                body.push(&id, &name, time, &record);
                if body.count >= chunk.max(1) {
                    let n = body.count;
                    out(std::mem::take(body).finish(), n);
                }
            }
        };
        while let Some(r) = rows.next()? {
            let time: i64 = r.get(2)?;
            if same_time.first().is_some_and(|f| f.2 != time) {
                flush(&mut same_time, &mut body);
            }
            same_time.push((r.get(0)?, r.get(1)?, time, r.get(3)?));
            total += 1;
        }
        flush(&mut same_time, &mut body);
        if body.count > 0 || total == 0 {
            let n = body.count;
            out(body.finish(), n);
        }
        Ok(total)
    }

    /// What the store holds: size, events, accounts, lookups and what they cover, archive
    /// indexes.
    pub fn stats(&self) -> Result<Stats> {
        let c = &self.conn;
        let file_bytes = super::database_bytes(self.path.parent().unwrap_or(std::path::Path::new("")));
        let (events, oldest_ms, newest_ms): (i64, Option<i64>, Option<i64>) =
            c.query_row("SELECT count(*), min(time_ms), max(time_ms) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let accounts = {
            let mut st = c.prepare("SELECT account, count(*) FROM events GROUP BY account ORDER BY account")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()?
        };
        let mut lookups = Vec::new();
        {
            let mut st = c.prepare(
                "SELECT id, scope, region, category, attr_key, attr_value,
                    (SELECT count(*) FROM lookup_events WHERE lookup = lookups.id)
                 FROM lookups ORDER BY scope, region, category, attr_key, attr_value",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    LookupKey {
                        scope: r.get(1)?,
                        region: r.get(2)?,
                        category: r.get(3)?,
                        attr_key: r.get(4)?,
                        attr_value: r.get(5)?,
                    },
                    r.get::<_, i64>(6)? as u64,
                ))
            })?;
            for row in rows {
                let (id, key, n) = row?;
                lookups.push((key, n, coverage_of(c, id)?));
            }
        }
        let (archive_files, archive_records, archive_bytes) = files::counts(c)?;
        Ok(Stats {
            path: self.path.clone(),
            file_bytes,
            used_bytes: used_bytes(c)?,
            schema: c.query_row("PRAGMA user_version", [], |r| r.get(0))?,
            events: events as u64,
            oldest_ms,
            newest_ms,
            accounts,
            lookups,
            archive_files,
            archive_records,
            archive_bytes,
        })
    }
}

/// Builds a lookup-events output document (`{"Events":[...]}`), the shape the loader reads
/// for fetched pages, so that stored events take exactly the path fetched ones take.
pub struct LookupBody {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LookupBody {
    fn default() -> Self {
        Self::new()
    }
}

impl LookupBody {
    /// An empty document.
    pub fn new() -> Self {
        LookupBody { buf: b"{\"Events\":[".to_vec(), count: 0 }
    }
    /// Adds one event, as LookupEvents returns it.
    pub fn push(&mut self, event_id: &str, event_name: &str, time_ms: i64, record: &str) {
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(b"{\"EventId\":");
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, event_id);
        self.buf.extend_from_slice(b",\"EventName\":");
        let _ = serde_json::to_writer(&mut self.buf, event_name);
        self.buf.extend_from_slice(b",\"EventTime\":");
        let _ = serde_json::to_writer(&mut self.buf, &(time_ms as f64 / 1000.0));
        self.buf.extend_from_slice(b",\"CloudTrailEvent\":");
        let _ = serde_json::to_writer(&mut self.buf, record);
        self.buf.push(b'}');
        self.count += 1;
    }
    /// Events added.
    pub fn len(&self) -> usize {
        self.count
    }
    /// No event added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The document.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(b"]}");
        self.buf
    }
}
