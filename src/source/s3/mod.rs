//! Trail archives read straight from S3.
//!
//! - [`layout`] is the pure part: the layout's keys, and which day directories and which files
//!   a window and a filter need.
//! - [`list`] finds a trail's accounts and regions and lists the day directories of the window,
//!   newest first.
//! - [`fetch`] fetches objects by key (from a listing, or from anywhere else: Athena's
//!   `"$path"`), in parallel, retried, with errors explained.
//!
//! [`S3Archive`] is the source: local inputs and remote ones, read by the loader's workers as
//! they arrive, so the newest files are on screen while the rest streams in.

pub mod fetch;
pub mod layout;
pub mod list;
pub mod store;
pub mod trail;

use super::boundary::{Links, Source};
use super::{discover_into, load_found, Found, LoadOptions, Problem, SourceMsg};
use crate::model::raw::{RawReader, SourceFile};
use fetch::{Bucket, Connect, Counters, Failure};
use layout::{PlanSummary, S3Url, Scope, Window};
use list::{Listed, Listings};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use store::S3Store;
use tokio::sync::mpsc;

/// How often the status is sent beside the events.
const STATUS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Parallel requests by default (listing and fetching each).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How S3 is read.
#[derive(Clone, Debug)]
pub struct S3Config {
    /// How to reach S3: profile, region, endpoint, timeout.
    pub connect: Connect,
    /// How long after an event its file may be delivered (`--delivery-lag`).
    pub lag_ms: i64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// The local store for listings and objects; `None`: none (`--no-cache`).
    pub cache: Option<crate::cache::CacheConfig>,
    /// Never ask S3: only what the store has (`--offline`).
    pub offline: bool,
    /// A trail (name or ARN) whose bucket and prefix DescribeTrails gives (`--trail`).
    pub trail: Option<String>,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            connect: Connect::default(),
            lag_ms: layout::DEFAULT_LAG_MS,
            concurrency: DEFAULT_CONCURRENCY,
            cache: None,
            offline: false,
            trail: None,
        }
    }
}

/// What the S3 part of a load did, for the status bar and `print`'s report.
#[derive(Clone, Debug, Default)]
pub struct S3Status {
    /// Per trail, what the planner decided.
    pub plans: Vec<(String, PlanSummary)>,
    /// Accounts and regions found under the trails (before the filter pruned them).
    pub accounts: BTreeSet<String>,
    /// Regions found under those accounts.
    pub regions: BTreeSet<String>,
    /// Log files to fetch, after listing and pruning.
    pub objects_wanted: usize,
    /// Log files read, fetched or from the local store.
    pub objects_done: usize,
    /// Log files given up, each named among the problems.
    pub objects_failed: usize,
    /// Objects taken from the local store instead of S3.
    pub objects_cached: usize,
    /// ListObjectsV2 requests sent.
    pub lists: usize,
    /// GetObject requests sent.
    pub gets: usize,
    /// HeadBucket requests sent.
    pub heads: usize,
    /// Requests asked again.
    pub retries: usize,
    /// Bytes fetched from S3 (as stored: compressed).
    pub bytes: u64,
    /// The trail named with `--trail`, as DescribeTrails and GetTrailStatus describe it.
    pub trail: Option<trail::TrailInfo>,
    /// About the local store (it could not be opened or written).
    pub notes: Vec<String>,
    /// Listing and fetching are over.
    pub done: bool,
}

impl S3Status {
    /// Every request sent, of any kind.
    pub fn requests(&self) -> usize {
        self.lists + self.gets + self.heads
    }
    fn take_counters(&mut self, c: &Counters) {
        self.lists = c.lists.load(Ordering::Relaxed);
        self.gets = c.gets.load(Ordering::Relaxed);
        self.heads = c.heads.load(Ordering::Relaxed);
        self.retries = c.retries.load(Ordering::Relaxed);
        self.bytes = c.bytes.load(Ordering::Relaxed);
    }
    /// One line about the plan of every trail: `s3: 2 accounts × 3 regions × 2 days · 412 objects · lag 1h`.
    pub fn plan_line(&self) -> Option<String> {
        if self.plans.is_empty() {
            return None;
        }
        let parts: Vec<String> = if self.plans.len() == 1 {
            vec![self.plans[0].1.to_string()]
        } else {
            self.plans.iter().map(|(t, p)| format!("{t}: {p}")).collect()
        };
        Some(parts.join("; "))
    }
}

/// Objects of a bucket named by key, fetched as they are (no listing, no pruning).
#[derive(Clone, Debug)]
pub struct KeyList {
    /// The bucket.
    pub bucket: String,
    /// The objects' keys.
    pub keys: Vec<String>,
}

/// Local inputs and trail archives in S3, read together.
pub struct S3Archive {
    /// Local files and directories, read beside the remote ones.
    pub local: Vec<String>,
    /// Trail archives: a bucket and the prefix its `AWSLogs/` is under.
    pub trails: Vec<S3Url>,
    /// Objects found elsewhere (Athena's `"$path"`), fetched by the same code.
    pub keys: Vec<KeyList>,
    /// The events wanted: the filter's window, or the default one.
    pub window: Window,
    /// The accounts and regions the filter can match (the rest is not listed).
    pub scope: Scope,
    /// How S3 is read.
    pub cfg: S3Config,
    /// How the fetched files are parsed and cached.
    pub opts: LoadOptions,
    /// What the S3 part did so far, shared with whoever shows it.
    pub status: Arc<Mutex<S3Status>>,
}

/// Whether a command line reads S3: an `s3://` PATH, or `--trail`.
pub fn is_remote(paths: &[String], cfg: &S3Config) -> bool {
    cfg.trail.is_some() || paths.iter().any(|p| layout::is_s3_url(p))
}

impl S3Archive {
    /// The source for a command line's PATHs (local and `s3://` ones) and filter. The window
    /// is the filter's time terms (with `--since`/`--until` folded in), else the last
    /// `default_ms` up to `now_ms`. Returns the source and whether the default start applies
    /// (no start was given): then, with only remote inputs, it should be a term of the filter.
    pub fn for_inputs(
        paths: &[String],
        q: &crate::query::Query,
        now_ms: i64,
        default_ms: i64,
        cfg: &S3Config,
        opts: LoadOptions,
    ) -> Result<(S3Archive, bool), String> {
        let plan = crate::query::plan::plan(q);
        let (mut trails, mut local) = (Vec::new(), Vec::new());
        for p in paths {
            if layout::is_s3_url(p) {
                trails.push(layout::parse_s3_url(p)?);
            } else {
                local.push(p.clone());
            }
        }
        let window = Window {
            start_ms: plan.since.unwrap_or(now_ms - default_ms),
            end_ms: plan.until.unwrap_or(now_ms),
            lag_ms: cfg.lag_ms,
        };
        if window.end_ms < window.start_ms {
            return Err("the window is empty: its start is after its end (--since, --until, since:, until:)".into());
        }
        let explicit = plan.since.is_some() || plan.until.is_some();
        let default_start = plan.since.is_none() && local.is_empty();
        let source = S3Archive {
            local,
            trails,
            keys: Vec::new(),
            window,
            scope: Scope::of(q),
            cfg: cfg.clone(),
            // Local files named as the layout names them are pruned by an explicit window
            // too (remote objects are already chosen by it).
            opts: LoadOptions { window: explicit.then_some(window).or(opts.window), ..opts },
            status: Default::default(),
        };
        Ok((source, default_start))
    }

    /// A source that fetches `keys` of `bucket` and nothing else.
    pub fn from_keys(bucket: &str, keys: Vec<String>, cfg: S3Config, opts: LoadOptions) -> S3Archive {
        S3Archive {
            local: Vec::new(),
            trails: Vec::new(),
            keys: vec![KeyList { bucket: bucket.to_string(), keys }],
            window: Window { start_ms: i64::MIN / 4, end_ms: i64::MAX / 4, lag_ms: 0 },
            scope: Scope::default(),
            cfg,
            opts,
            status: Default::default(),
        }
    }

    /// Loads everything, streaming to `emit` (ends with [`SourceMsg::Done`]).
    pub fn load(&self, raw: &RawReader, emit: &mut dyn FnMut(SourceMsg)) {
        let search = |sink: &mut dyn FnMut(Found)| {
            if !self.local.is_empty() {
                discover_into(&self.local, sink);
            }
            self.remote(sink);
        };
        // The status goes along with the events, at most every 100 ms, and once more at the end.
        let mut last: Option<std::time::Instant> = None;
        let mut with_status = |m: SourceMsg| {
            let done = matches!(m, SourceMsg::Done(_));
            if done || last.is_none_or(|t| t.elapsed() >= STATUS_EVERY) {
                last = Some(std::time::Instant::now());
                let status = self.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
                emit(SourceMsg::Remote(Box::new(status)));
            }
            emit(m);
        };
        load_found(&search, "s3".to_string(), !self.local.is_empty(), &self.opts, raw, &mut with_status);
    }

    /// Lists and fetches the remote inputs, handing each object to `sink` as it arrives.
    fn remote(&self, sink: &mut dyn FnMut(Found)) {
        if self.trails.is_empty() && self.keys.is_empty() && self.cfg.trail.is_none() {
            return;
        }
        let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                sink(Found::Problem(Problem {
                    input: "s3".into(),
                    reason: format!("starting the runtime: {e}"),
                    skipped: true,
                }));
                return;
            }
        };
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<Found>();
            let job = Job {
                trails: self.trails.clone(),
                keys: self.keys.clone(),
                window: self.window,
                scope: self.scope.clone(),
                cfg: self.cfg.clone(),
                status: self.status.clone(),
                counters: Arc::new(Counters::default()),
                stores: Mutex::new(Vec::new()),
            };
            let task = tokio::spawn(job.run(tx));
            while let Some(found) = rx.recv().await {
                sink(found);
            }
            if let Err(e) = task.await {
                sink(Found::Problem(Problem {
                    input: "s3".into(),
                    reason: format!("internal error while reading S3 ({e}); what was fetched is shown"),
                    skipped: false,
                }));
            }
        });
    }
}

impl Source for S3Archive {
    fn name(&self) -> String {
        "s3".into()
    }
    fn run(self: Box<Self>, links: Links, emit: &mut dyn FnMut(SourceMsg)) {
        self.load(&links.raw, emit);
    }
}

/// The remote part of a load, run on the runtime.
struct Job {
    trails: Vec<S3Url>,
    keys: Vec<KeyList>,
    window: Window,
    scope: Scope,
    cfg: S3Config,
    status: Arc<Mutex<S3Status>>,
    counters: Arc<Counters>,
    stores: Mutex<Vec<Arc<S3Store>>>,
}

type Tx = mpsc::UnboundedSender<Found>;

impl Job {
    fn status(&self) -> std::sync::MutexGuard<'_, S3Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn run(self, tx: Tx) {
        let job = Arc::new(self);
        let sdk = if job.cfg.offline { None } else { Some(fetch::sdk_config(&job.cfg.connect).await) };
        let fetches = Arc::new(tokio::sync::Semaphore::new(job.cfg.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        let mut trails = job.trails.clone();
        if let Some(name) = &job.cfg.trail {
            if job.cfg.offline {
                job.problem(
                    &tx,
                    &format!("trail {name}"),
                    "offline: DescribeTrails is not asked; name the trail's s3:// URL instead".into(),
                    true,
                );
            } else {
                match trail::describe(&job.cfg.connect, name).await {
                    Ok(info) => {
                        trails.insert(0, info.url.clone());
                        job.status().trail = Some(info);
                    }
                    Err(e) => job.problem(&tx, &format!("trail {name}"), e, true),
                }
            }
        }
        for url in &trails {
            let store = job.store(&url.bucket);
            let bucket = match job.bucket(sdk.as_ref(), &url.bucket, &store).await {
                Ok(b) => b,
                Err(f) => {
                    job.problem(&tx, &url.to_string(), f.text, true);
                    continue;
                }
            };
            if let Err(f) = job.trail(&bucket, store.clone(), url, &fetches, &tx, &mut tasks).await {
                job.problem(&tx, &url.to_string(), f.text, true);
            }
        }
        for list in &job.keys {
            let store = job.store(&list.bucket);
            let bucket = match job.bucket(sdk.as_ref(), &list.bucket, &store).await {
                Ok(b) => b,
                Err(f) => {
                    job.problem(&tx, &format!("s3://{}", list.bucket), f.text, true);
                    continue;
                }
            };
            let objects: Vec<Listed> =
                list.keys.iter().map(|k| Listed { key: k.clone(), etag: String::new(), size: 0 }).collect();
            job.status().objects_wanted += objects.len();
            job.spawn_fetches(&bucket, store, objects, &fetches, &tx, &mut tasks);
        }
        while tasks.join_next().await.is_some() {}
        let stores: Vec<Arc<S3Store>> = job.stores.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
        for s in stores {
            let s2 = s.clone();
            let _ = tokio::task::spawn_blocking(move || s2.enforce_limit()).await;
            for n in s.notes.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
                job.status().notes.push(n);
            }
        }
        let mut st = job.status();
        st.take_counters(&job.counters);
        st.done = true;
    }

    fn problem(&self, tx: &Tx, input: &str, reason: String, skipped: bool) {
        let input = crate::sanitize::sanitize(input).into_owned();
        let _ = tx.send(Found::Problem(Problem { input, reason, skipped }));
    }

    /// The local store for a bucket (one per load and bucket).
    fn store(&self, bucket: &str) -> Arc<S3Store> {
        let site = store::site_of(self.cfg.connect.endpoint_url.as_deref());
        let s = Arc::new(S3Store::open(self.cfg.cache.as_ref(), &site, bucket, self.cfg.offline));
        self.stores.lock().unwrap_or_else(|p| p.into_inner()).push(s.clone());
        s
    }

    /// A client for the bucket, in the bucket's own region.
    async fn bucket(
        &self,
        sdk: Option<&aws_config::SdkConfig>,
        name: &str,
        store: &S3Store,
    ) -> Result<Bucket, Failure> {
        let c = &self.cfg.connect;
        let Some(sdk) = sdk else {
            // Offline: a client that is never used, so that the store answers everything.
            let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
            return Ok(Bucket {
                client: fetch::client(&sdk, "us-east-1", c),
                name: name.to_string(),
                counters: self.counters.clone(),
            });
        };
        let known = if c.endpoint_url.is_some() { None } else { store.bucket_region() };
        let had = known.is_some();
        let (bucket, region) = fetch::open_bucket(sdk, c, name, self.counters.clone(), known).await?;
        if !had && c.endpoint_url.is_none() {
            store.keep_bucket_region(&region);
        }
        Ok(bucket)
    }

    /// Plans one trail, lists its day directories (newest first) and fetches what the window needs.
    async fn trail(
        self: &Arc<Self>,
        b: &Bucket,
        store: Arc<S3Store>,
        url: &S3Url,
        fetches: &Arc<tokio::sync::Semaphore>,
        tx: &Tx,
        tasks: &mut tokio::task::JoinSet<()>,
    ) -> Result<(), Failure> {
        let dirs = list::trail_dirs(b, store.as_ref() as &dyn Listings, url, &self.window, &self.scope).await?;
        let days = layout::day_prefixes(&dirs.accounts, &self.window);
        let mut plan = PlanSummary {
            accounts: dirs.accounts.len(),
            regions: dirs.accounts.iter().flat_map(|a| a.2.iter()).collect::<BTreeSet<_>>().len(),
            days: self.window.days().len(),
            objects: Some(0),
            lag_ms: self.window.lag_ms,
        };
        {
            let mut st = self.status();
            st.accounts.extend(dirs.found_accounts.iter().cloned());
            st.regions.extend(dirs.found_regions.iter().cloned());
            st.plans.push((url.to_string(), plan.clone()));
        }
        let plan_idx = self.status().plans.len() - 1;
        // Day directories are listed a few at a time, in order (newest first), and each one's
        // objects are queued for fetching as soon as its listing is in.
        use futures::StreamExt;
        let lists = self.cfg.concurrency.clamp(1, 8);
        let last = self.window.last_delivery_ms();
        let listings: Vec<_> = days
            .into_iter()
            .map(|d| {
                let (store, b) = (store.clone(), b.clone());
                async move {
                    let after = d.day.end_ms().min(last);
                    let level = list::list_via(&b, store.as_ref(), &d.prefix, false, after).await;
                    (d, level)
                }
            })
            .collect();
        let mut listed = futures::stream::iter(listings).buffered(lists);
        while let Some((day, level)) = listed.next().await {
            let day = &day;
            match level {
                Ok(level) => {
                    let objects = list::wanted_objects(url, day, &level, &self.window);
                    plan.objects = Some(plan.objects.unwrap_or(0) + objects.len());
                    {
                        let mut st = self.status();
                        st.objects_wanted += objects.len();
                        st.plans[plan_idx].1 = plan.clone();
                    }
                    self.spawn_fetches(b, store.clone(), objects, fetches, tx, tasks);
                }
                Err(f) if f.fatal => return Err(f),
                Err(f) => self.problem(tx, &format!("s3://{}/{}", b.name, day.prefix), f.text, true),
            }
        }
        Ok(())
    }

    /// Fetches objects in the order given, `fetches` permits at a time.
    fn spawn_fetches(
        self: &Arc<Self>,
        b: &Bucket,
        store: Arc<S3Store>,
        objects: Vec<Listed>,
        fetches: &Arc<tokio::sync::Semaphore>,
        tx: &Tx,
        tasks: &mut tokio::task::JoinSet<()>,
    ) {
        for o in objects {
            let (job, b, fetches, tx, store) = (self.clone(), b.clone(), fetches.clone(), tx.clone(), store.clone());
            tasks.spawn(async move {
                let Ok(_permit) = fetches.acquire_owned().await else { return };
                let name = format!("s3://{}/{}", b.name, o.key);
                let cached = {
                    let (store, key, etag) = (store.clone(), o.key.clone(), o.etag.clone());
                    tokio::task::spawn_blocking(move || store.object(&key, &etag)).await.ok().flatten()
                };
                if let Some(bytes) = cached {
                    job.status().objects_cached += 1;
                    let _ = tx.send(Found::File(SourceFile::in_memory(0, &name, bytes)));
                    return;
                }
                if job.cfg.offline {
                    job.status().objects_failed += 1;
                    job.problem(&tx, &name, "offline: this object is not in the cache".into(), true);
                    return;
                }
                match fetch::get_object(&b.client, &b.name, &o.key, &b.counters).await {
                    Ok(f) => {
                        job.status().objects_done += 1;
                        let etag = if f.etag.is_empty() { o.etag.clone() } else { f.etag.clone() };
                        let file = SourceFile::in_memory(0, &name, f.bytes);
                        if let Some(bytes) = file.memory.get().cloned() {
                            let key = o.key.clone();
                            let _ = tokio::task::spawn_blocking(move || store.keep_object(&key, &etag, &bytes)).await;
                        }
                        let _ = tx.send(Found::File(file));
                    }
                    Err(f) => {
                        job.status().objects_failed += 1;
                        job.problem(&tx, &name, f.text, true);
                    }
                }
                job.status().take_counters(&b.counters);
            });
        }
    }
}
