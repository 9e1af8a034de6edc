//! What is drawn once per seed (accounts, keys, addresses, resource ids, the call tables),
//! and what each file gets: its account, region, delivery window and name.

use crate::catalogue::{
    is_global, Call, CALLS, FUNCTION_NAMES, REGIONS, REGION_WEIGHTS, ROLE_NAMES, SERVICE_PRINCIPALS, USER_NAMES,
};
use crate::rng::{mix, weighted, Rng, ALNUM, B32, HEX, SALT_FILE, SALT_POOL, UPPER_DIGITS};
use crate::time::civil;
use crate::GenOptions;

pub(crate) struct CallTable {
    pub(crate) calls: Vec<(Call, u32)>,
}

impl CallTable {
    pub(crate) fn new(read: bool, global_ok: bool) -> Self {
        CallTable {
            calls: CALLS.iter().filter(|c| c.3 == read && (global_ok || !is_global(c.0))).map(|c| (*c, c.2)).collect(),
        }
    }
}

pub(crate) struct Pools {
    pub(crate) accounts: Vec<String>,
    pub(crate) external_accounts: Vec<String>,
    pub(crate) user_ids: Vec<Vec<String>>,
    pub(crate) role_ids: Vec<Vec<String>>,
    pub(crate) akia: Vec<String>,
    pub(crate) asia: Vec<String>,
    pub(crate) ips: Vec<String>,
    pub(crate) sessions: Vec<String>,
    pub(crate) instances: Vec<String>,
    pub(crate) sgs: Vec<String>,
    pub(crate) vpcs: Vec<String>,
    pub(crate) subnets: Vec<String>,
    pub(crate) amis: Vec<String>,
    pub(crate) volumes: Vec<String>,
    pub(crate) kms_keys: Vec<String>,
    pub(crate) bucket_suffix: String,
    pub(crate) trail_bucket: String,
    pub(crate) detector: String,
    pub(crate) zones: Vec<String>,
    /// [read|write][us-east-1|other]
    pub(crate) tables: [[CallTable; 2]; 2],
    pub(crate) regions: Vec<(&'static str, u32)>,
}

impl Pools {
    pub(crate) fn new(seed: u64, opts: &GenOptions) -> Self {
        let mut r = Rng::new(mix(seed, SALT_POOL));
        let n_acct = opts.accounts.max(1);
        let acct = |r: &mut Rng| format!("{}{}", r.range(1, 9), r.chars(11, b"0123456789"));
        let accounts: Vec<String> = (0..n_acct).map(|_| acct(&mut r)).collect();
        let external_accounts = (0..5).map(|_| acct(&mut r)).collect();
        let user_ids = (0..n_acct)
            .map(|_| (0..USER_NAMES.len()).map(|_| format!("{}{}", "AIDA", r.chars(17, UPPER_DIGITS))).collect())
            .collect();
        let role_ids = (0..n_acct)
            .map(|_| (0..ROLE_NAMES.len()).map(|_| format!("{}{}", "AROA", r.chars(17, UPPER_DIGITS))).collect())
            .collect();
        let akia = (0..100).map(|_| format!("{}{}", "AKIA", r.chars(16, B32))).collect();
        let asia = (0..100).map(|_| format!("{}{}", "ASIA", r.chars(16, B32))).collect();
        let first_octets: [u64; 20] =
            [3, 13, 18, 23, 34, 35, 44, 52, 54, 63, 72, 81, 98, 104, 136, 142, 151, 185, 203, 212];
        let mut ips = Vec::with_capacity(300);
        for i in 0..300 {
            let ip = match i % 30 {
                0..=1 => "AWS Internal".to_string(),
                2 => SERVICE_PRINCIPALS[r.idx(SERVICE_PRINCIPALS.len())].to_string(),
                3 => format!(
                    "2600:1f18:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000),
                    r.below(0x10000)
                ),
                _ => format!(
                    "{}.{}.{}.{}",
                    first_octets[r.idx(first_octets.len())],
                    r.below(256),
                    r.below(256),
                    r.range(1, 254)
                ),
            };
            ips.push(ip);
        }
        let hex17 = |r: &mut Rng, p: &str| format!("{p}{}", r.chars(17, HEX));
        let instances: Vec<String> = (0..60).map(|_| hex17(&mut r, "i-0")).collect();
        let mut sessions: Vec<String> = Vec::new();
        for u in USER_NAMES.iter().take(19) {
            sessions.push(format!("{u}@example.com"));
        }
        for i in instances.iter().take(8) {
            sessions.push(i.clone());
        }
        for _ in 0..5 {
            sessions.push(format!("botocore-session-{}", r.range(1_735_000_000, 1_767_000_000)));
        }
        for _ in 0..3 {
            sessions.push(format!("aws-go-sdk-{}", r.range(1_735_000_000_000, 1_767_000_000_000)));
        }
        sessions.push("GitHubActions".into());
        sessions.push(format!("terraform-run-{}", r.chars(8, HEX)));
        sessions.push("AWSConfig-Describe".into());
        sessions.push("GuardDutySession".into());
        sessions.push("AutoScaling".into());
        for f in FUNCTION_NAMES.iter().take(4) {
            sessions.push((*f).to_string());
        }
        let sgs = (0..20).map(|_| hex17(&mut r, "sg-0")).collect();
        let vpcs = (0..6).map(|_| hex17(&mut r, "vpc-0")).collect();
        let subnets = (0..18).map(|_| hex17(&mut r, "subnet-0")).collect();
        let amis = (0..8).map(|_| hex17(&mut r, "ami-0")).collect();
        let volumes = (0..40).map(|_| hex17(&mut r, "vol-0")).collect();
        let kms_keys = (0..12).map(|_| r.uuid()).collect();
        let bucket_suffix = r.chars(8, HEX);
        let trail_bucket = format!("aws-cloudtrail-logs-{}-{}", accounts[0], r.chars(8, HEX));
        // Drawn for the key fingerprint before digests were signed with a real key; still
        // drawn, so that everything drawn after it stays as it was.
        let _ = r.chars(32, HEX);
        let detector = r.chars(32, HEX);
        let zones = (0..6).map(|_| format!("Z{}", r.chars(20, UPPER_DIGITS))).collect();
        let n_reg = opts.regions.clamp(1, 10);
        let regions = (0..n_reg).map(|i| (REGIONS[i], REGION_WEIGHTS[i])).collect();
        Pools {
            accounts,
            external_accounts,
            user_ids,
            role_ids,
            akia,
            asia,
            ips,
            sessions,
            instances,
            sgs,
            vpcs,
            subnets,
            amis,
            volumes,
            kms_keys,
            bucket_suffix,
            trail_bucket,
            detector,
            zones,
            tables: [
                [CallTable::new(true, true), CallTable::new(true, false)],
                [CallTable::new(false, true), CallTable::new(false, false)],
            ],
            regions,
        }
    }
}

pub(crate) const WINDOW: i64 = 300;

pub(crate) struct FileCtx {
    pub(crate) acct: usize,
    pub(crate) region: usize,
    /// Window start; records get times in `[win_start, win_start + 300)`.
    pub(crate) win_start: i64,
    pub(crate) suffix: String,
}

pub(crate) fn window_base(opts: &GenOptions) -> (i64, i64) {
    let lo = opts.end_time - opts.span_secs.max(0);
    let base = lo.div_euclid(WINDOW) * WINDOW;
    // Windows that start before the end time; one starting at it would hold nothing.
    let slots = ((opts.end_time - base + WINDOW - 1) / WINDOW).max(1);
    (base, slots)
}

impl FileCtx {
    pub(crate) fn new(seed: u64, file: u64, opts: &GenOptions, pools: &Pools) -> Self {
        let mut r = Rng::new(mix(seed ^ SALT_FILE, file));
        let acct = r.idx(pools.accounts.len());
        let region = {
            let idx: Vec<(usize, u32)> = pools.regions.iter().enumerate().map(|(i, x)| (i, x.1)).collect();
            *weighted(&mut r, &idx)
        };
        let (base, slots) = window_base(opts);
        let win_start = base + r.below(slots as u64) as i64 * WINDOW;
        let suffix = r.chars(16, ALNUM);
        FileCtx { acct, region, win_start, suffix }
    }

    /// Time carried by the file name (end of the delivery window).
    pub(crate) fn name_time(&self) -> i64 {
        self.win_start + WINDOW
    }
}

pub(crate) fn log_key(pools: &Pools, opts: &GenOptions, ctx: &FileCtx) -> String {
    let acct = &pools.accounts[ctx.acct];
    let region = pools.regions[ctx.region].0;
    let (y, mo, d, h, mi, _) = civil(ctx.name_time());
    // An organisation trail puts every member account under the organisation's id.
    let org = opts.organization.as_deref().map(|o| format!("{o}/")).unwrap_or_default();
    format!(
        "AWSLogs/{org}{acct}/CloudTrail/{region}/{y:04}/{mo:02}/{d:02}/{acct}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{}.json.gz",
        ctx.suffix
    )
}
