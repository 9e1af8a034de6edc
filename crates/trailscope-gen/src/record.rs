//! One whole record: an API call, a console sign-in or a service event, now and then with a
//! hostile string in it.

use serde_json::{json, Map, Value};

use crate::builder::{s, Builder, IdKind};
use crate::catalogue::{is_global, BROWSERS, CIPHERS, HOSTILE, SERVICE_EVENTS};
use crate::pools::{FileCtx, Pools, WINDOW};
use crate::rng::{mix, weighted, Rng, HEX, SALT_REC, UPPER_DIGITS};
use crate::time::iso;
use crate::GenOptions;

/// Who made an API call, as the record's other fields need it.
struct Caller {
    kind: IdKind,
    /// The principal's ARN, for error messages.
    arn: String,
    /// The service that made the call on the principal's behalf.
    invoked_by: Option<String>,
    /// Made from the console.
    console: bool,
}

impl Builder<'_> {
    pub(crate) fn build(&mut self, opts: &GenOptions) -> Value {
        let service_event = self.r.chance(0.008);
        let (svc, name, read_only) = if service_event {
            let (s, n) = *self.r.pick(&SERVICE_EVENTS);
            (s, n, false)
        } else {
            let read = self.r.chance(0.75);
            let local = usize::from(self.region != "us-east-1");
            let t = &self.p.tables[usize::from(!read)][local];
            let c = *weighted(&mut self.r, &t.calls);
            (c.0, c.1, c.3)
        };
        let console_login = name == "ConsoleLogin";
        let region = self.region;
        let event_version = *weighted(&mut self.r, &[("1.08", 20), ("1.09", 30), ("1.10", 25), ("1.11", 25)]);

        let mut m = Map::new();
        m.insert("eventVersion".into(), s(event_version));

        if service_event {
            self.service_event(&mut m, svc, name);
            return self.maybe_hostile(Value::Object(m), opts);
        }

        let kind = self.identity_kind(svc, name);
        let (mut ua, mut console) = self.user_agent(kind, svc, name);
        if console_login {
            ua = self.r.pick(&BROWSERS).to_string();
            console = true;
        }
        let (identity, arn, invoked_by) = self.identity(kind, console);
        let source_ip = match (&invoked_by, kind) {
            (Some(svcp), _) => svcp.clone(),
            _ if console_login => {
                let mut ip = self.ip();
                while !ip.contains('.') || ip.ends_with(".com") {
                    ip = self.ip();
                }
                ip
            }
            _ => self.ip(),
        };
        if kind == IdKind::AwsService {
            if let Some(p) = &invoked_by {
                ua = p.clone();
            }
        }

        m.insert("userIdentity".into(), identity);
        m.insert("eventTime".into(), s(iso(self.time)));
        m.insert("eventSource".into(), s(format!("{svc}.amazonaws.com")));
        m.insert("eventName".into(), s(name));
        m.insert("awsRegion".into(), s(region));
        m.insert("sourceIPAddress".into(), s(source_ip));
        m.insert("userAgent".into(), s(ua));

        if console_login {
            self.console_sign_in(&mut m);
            return self.maybe_hostile(Value::Object(m), opts);
        }
        let caller = Caller { kind, arn, invoked_by, console };
        self.api_call(&mut m, svc, name, read_only, caller);
        self.maybe_hostile(Value::Object(m), opts)
    }

    /// The rest of an `AwsServiceEvent` record.
    fn service_event(&mut self, m: &mut Map<String, Value>, svc: &str, name: &str) {
        let region = self.region;
        let invoked = format!("{svc}.amazonaws.com");
        m.insert("userIdentity".into(), json!({"accountId": self.acct, "invokedBy": invoked}));
        m.insert("eventTime".into(), s(iso(self.time)));
        m.insert("eventSource".into(), s(format!("{svc}.amazonaws.com")));
        m.insert("eventName".into(), s(name));
        m.insert("awsRegion".into(), s(region));
        m.insert("sourceIPAddress".into(), s(invoked.clone()));
        m.insert("userAgent".into(), s(invoked));
        m.insert("requestParameters".into(), Value::Null);
        m.insert("responseElements".into(), Value::Null);
        m.insert("eventID".into(), s(self.r.uuid()));
        m.insert("readOnly".into(), Value::Bool(false));
        if svc == "kms" {
            let key = self.key_arn();
            m.insert("resources".into(), json!([{"accountId": self.acct, "type": "AWS::KMS::Key", "ARN": key}]));
        }
        m.insert("eventType".into(), s("AwsServiceEvent"));
        m.insert("managementEvent".into(), Value::Bool(true));
        m.insert("recipientAccountId".into(), s(self.acct));
        m.insert(
            "serviceEventDetails".into(),
            match name {
                "RotateKey" | "DeleteExpiredKeyMaterial" => {
                    json!({"keyId": self.r.pick(&self.p.kms_keys)})
                }
                "SharedSnapshotCopyInitiated" => json!({
                    "snapshotId": format!("snap-0{}", self.r.chars(16, HEX)),
                    "sourceAccountId": self.r.pick(&self.p.external_accounts)
                }),
                "BackupJobCompleted" => json!({
                    "backupJobId": self.r.uuid(),
                    "state": "COMPLETED",
                    "resourceType": "EBS"
                }),
                _ => json!({"status": "FAILED", "reason": "S3 bucket policy denied write"}),
            },
        );
        m.insert("eventCategory".into(), s("Management"));
    }

    /// The rest of a `ConsoleLogin` record.
    fn console_sign_in(&mut self, m: &mut Map<String, Value>) {
        let failed = self.r.chance(0.12);
        if failed {
            m.insert("errorMessage".into(), s("Failed authentication"));
        }
        m.insert("requestParameters".into(), Value::Null);
        m.insert("responseElements".into(), json!({"ConsoleLogin": if failed { "Failure" } else { "Success" }}));
        let mfa = if failed || self.r.chance(0.25) { "No" } else { "Yes" };
        m.insert(
            "additionalEventData".into(),
            json!({
                "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_",
                "MobileVersion": "No",
                "MFAUsed": mfa
            }),
        );
        m.insert("eventID".into(), s(self.r.uuid()));
        m.insert("readOnly".into(), Value::Bool(false));
        m.insert("eventType".into(), s("AwsConsoleSignIn"));
        m.insert("managementEvent".into(), Value::Bool(true));
        m.insert("recipientAccountId".into(), s(self.acct));
        m.insert("eventCategory".into(), s("Management"));
    }

    /// The rest of an `AwsApiCall` record: parameters, response or error, ids, TLS details.
    fn api_call(&mut self, m: &mut Map<String, Value>, svc: &str, name: &str, read_only: bool, caller: Caller) {
        let Caller { kind, arn, invoked_by, console } = caller;
        let region = self.region;
        let (req, details) = self.params(svc, name);
        let failed = self.r.chance(0.05);
        let resp = if failed {
            let (code, msg) = self.error(svc, name, &arn, &req);
            m.insert("errorCode".into(), s(code));
            if !msg.is_empty() {
                m.insert("errorMessage".into(), s(msg));
            }
            Value::Null
        } else {
            details.response
        };
        let s3_host = req.get("Host").and_then(Value::as_str).map(str::to_string);
        m.insert("requestParameters".into(), req);
        m.insert("responseElements".into(), resp);
        if let Some(e) = details.additional {
            m.insert("additionalEventData".into(), e);
        }
        let request_id = if svc == "s3" { self.r.chars(16, UPPER_DIGITS) } else { self.r.uuid() };
        m.insert("requestID".into(), s(request_id));
        m.insert("eventID".into(), s(self.r.uuid()));
        m.insert("readOnly".into(), Value::Bool(read_only));
        if let Some(res) = details.resources {
            m.insert("resources".into(), res);
        }
        m.insert("eventType".into(), s("AwsApiCall"));
        if svc == "s3" || svc == "route53" || svc == "cloudfront" {
            m.insert(
                "apiVersion".into(),
                s(match svc {
                    "s3" => "2006-03-01",
                    "route53" => "2013-04-01",
                    _ => "2020-05-31",
                }),
            );
        }
        m.insert("managementEvent".into(), Value::Bool(true));
        m.insert("recipientAccountId".into(), s(self.acct));
        if kind == IdKind::AwsAccount {
            m.insert("sharedEventID".into(), s(self.r.uuid()));
        }
        if kind != IdKind::AwsService && self.r.chance(0.04) {
            m.insert("vpcEndpointId".into(), s(format!("vpce-0{}", self.r.chars(16, HEX))));
        }
        m.insert("eventCategory".into(), s("Management"));
        if kind != IdKind::AwsService && invoked_by.is_none() && self.r.chance(0.8) {
            let (v, c, _) = *weighted(&mut self.r, &CIPHERS.map(|(v, c, w)| ((v, c, w), w)));
            let host = if is_global(svc) {
                format!("{svc}.amazonaws.com")
            } else if svc == "s3" {
                s3_host.unwrap_or_else(|| format!("s3.{region}.amazonaws.com"))
            } else {
                format!("{svc}.{region}.amazonaws.com")
            };
            m.insert("tlsDetails".into(), json!({"tlsVersion": v, "cipherSuite": c, "clientProvidedHostHeader": host}));
        }
        if console && matches!(kind, IdKind::AssumedRole | IdKind::IamUser | IdKind::Root) {
            m.insert("sessionCredentialFromConsole".into(), s("true"));
        }
    }

    pub(crate) fn maybe_hostile(&mut self, mut v: Value, opts: &GenOptions) -> Value {
        if !opts.hostile || self.r.below(300) != 0 {
            return v;
        }
        let evil = match self.r.below(HOSTILE.len() as u64 + 2) {
            n if (n as usize) < HOSTILE.len() => HOSTILE[n as usize].to_string(),
            n if n as usize == HOSTILE.len() => {
                // 5,000 characters
                let unit = "A\u{1b}[1mB";
                let mut out = String::with_capacity(5000);
                while out.chars().count() + unit.chars().count() <= 5000 {
                    out.push_str(unit);
                }
                while out.chars().count() < 5000 {
                    out.push('x');
                }
                out
            }
            _ => format!("{}{}", self.r.pick(&HOSTILE[..4]), self.r.pick(&HOSTILE[7..12])),
        };
        let Some(m) = v.as_object_mut() else {
            return v;
        };
        match self.r.below(4) {
            0 => {
                m.insert("userAgent".into(), s(evil));
            }
            1 => {
                let rp = m.entry("requestParameters").or_insert_with(|| Value::Object(Map::new()));
                if !rp.is_object() {
                    *rp = Value::Object(Map::new());
                }
                if let Some(o) = rp.as_object_mut() {
                    let key = o
                        .iter()
                        .find(|(_, v)| v.is_string())
                        .map(|(k, _)| k.clone())
                        .unwrap_or_else(|| "description".into());
                    o.insert(key, s(evil));
                }
            }
            2 => {
                // errorCode must precede errorMessage; rebuild in place
                let mut out = Map::new();
                let had_code = m.contains_key("errorCode");
                for (k, val) in std::mem::take(m) {
                    if k == "errorMessage" {
                        continue;
                    }
                    let is_ua = k == "userAgent";
                    let is_code = k == "errorCode";
                    out.insert(k, val);
                    if (is_ua && !had_code) || is_code {
                        if !had_code {
                            out.insert("errorCode".into(), s("AccessDenied"));
                        }
                        out.insert("errorMessage".into(), s(evil.clone()));
                    }
                }
                if out.get("eventType").and_then(Value::as_str) == Some("AwsApiCall") {
                    out.insert("responseElements".into(), Value::Null);
                }
                *m = out;
            }
            _ => {
                let rp = m.entry("requestParameters").or_insert_with(|| Value::Object(Map::new()));
                if !rp.is_object() {
                    *rp = Value::Object(Map::new());
                }
                if let Some(o) = rp.as_object_mut() {
                    o.insert("userName".into(), s(evil));
                }
            }
        }
        v
    }
}

pub(crate) fn make_record(pools: &Pools, ctx: &FileCtx, seed: u64, index: u64, opts: &GenOptions) -> Value {
    let mut r = Rng::new(mix(seed ^ SALT_REC, index));
    let lo = opts.end_time - opts.span_secs.max(0);
    // Within the file's window, and never past the end time (the last window may be cut short).
    let hi = (ctx.win_start + WINDOW).min(opts.end_time + 1).max(ctx.win_start + 1);
    let time = (ctx.win_start + r.below((hi - ctx.win_start) as u64) as i64).clamp(lo, opts.end_time);
    let mut b = Builder { r, p: pools, acct: &pools.accounts[ctx.acct], region: pools.regions[ctx.region].0, time };
    b.build(opts)
}
