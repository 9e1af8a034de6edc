//! The database schema, as an ordered list of migrations. `PRAGMA user_version` is the number
//! of migrations applied; each runs in its own transaction, so a crash part way leaves the
//! database at the previous version. Never edit a migration that has shipped: add one.

/// The migrations, oldest first: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: events of LookupEvents, the lookups that returned them, and what each lookup covers.
    "
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        event_id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        event_name TEXT NOT NULL,
        event_source TEXT NOT NULL,
        username TEXT NOT NULL,
        access_key_id TEXT NOT NULL,
        read_only TEXT NOT NULL,
        error_code TEXT NOT NULL,
        category TEXT NOT NULL,
        stored_ms INTEGER NOT NULL,
        cloudtrail_event TEXT NOT NULL,
        UNIQUE (account, region, event_id)
    );
    CREATE INDEX events_time ON events (time_ms);
    CREATE INDEX events_region_time ON events (account, region, time_ms);
    CREATE INDEX events_name ON events (event_name, time_ms);
    CREATE INDEX events_source ON events (event_source, time_ms);
    CREATE INDEX events_user ON events (username, time_ms);
    CREATE INDEX events_key ON events (access_key_id, time_ms);
    CREATE TABLE lookups (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        region TEXT NOT NULL,
        category TEXT NOT NULL,
        attr_key TEXT NOT NULL,
        attr_value TEXT NOT NULL,
        UNIQUE (scope, region, category, attr_key, attr_value)
    );
    CREATE TABLE lookup_events (
        lookup INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        event INTEGER NOT NULL,
        PRIMARY KEY (lookup, time_ms, event)
    ) WITHOUT ROWID;
    CREATE TABLE coverage (
        lookup INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        fetched_ms INTEGER NOT NULL,
        PRIMARY KEY (lookup, start_ms)
    ) WITHOUT ROWID;
    ",
    // 2: the parsed index of local archive files, one row per file, keyed by path, size and
    // modification time (see cache::files for the encoding of `summary`).
    "
    CREATE TABLE archive_files (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        used_ms INTEGER NOT NULL,
        records INTEGER NOT NULL,
        summary BLOB NOT NULL
    );
    ",
    // 3: how many times events were removed (pruned, evicted for space, cleared). A fetch
    // reads it with each page it commits: when it changed, events of its earlier pages may be
    // gone, and the fetch no longer claims coverage that relies on them (see cache::write).
    // Lookup ids are never used twice, so that a fetch running through `cache clear` cannot
    // write into another query's lookup.
    "
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('removals', 0);
    CREATE TABLE lookups_3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        region TEXT NOT NULL,
        category TEXT NOT NULL,
        attr_key TEXT NOT NULL,
        attr_value TEXT NOT NULL,
        UNIQUE (scope, region, category, attr_key, attr_value)
    );
    INSERT INTO lookups_3 SELECT id, scope, region, category, attr_key, attr_value FROM lookups;
    DROP TABLE lookups;
    ALTER TABLE lookups_3 RENAME TO lookups;
    ",
    // 4: trail archives in S3 (see cache::s3): listings with when they were taken, objects as
    // fetched by bucket, key and ETag, and each bucket's region; per site (AWS or an endpoint).
    "
    CREATE TABLE s3_listings (
        site TEXT NOT NULL,
        bucket TEXT NOT NULL,
        prefix TEXT NOT NULL,
        listed_ms INTEGER NOT NULL,
        dirs TEXT NOT NULL,
        objects TEXT NOT NULL,
        PRIMARY KEY (site, bucket, prefix)
    );
    CREATE TABLE s3_objects (
        site TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        etag TEXT NOT NULL,
        used_ms INTEGER NOT NULL,
        size INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (site, bucket, key)
    );
    CREATE INDEX s3_objects_used ON s3_objects (used_ms);
    CREATE TABLE s3_buckets (
        site TEXT NOT NULL,
        bucket TEXT NOT NULL,
        region TEXT NOT NULL,
        PRIMARY KEY (site, bucket)
    );
    ",
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}
