//! A real S3 server for the tests: `moto_server` (PyPI `moto[server]`) on a free loopback
//! port, started once per test binary in its own process and ended when the binary exits;
//! and a counting, fault-injecting proxy in front of it, one per test, that records every
//! request the program under test makes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    pub port: u16,
    /// The shell that runs moto: it ends moto when its standard input closes, which happens
    /// when this test binary exits, however it exits.
    _child: Mutex<Child>,
}

impl Moto {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The test binary's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = free_port();
        let script = format!(
            "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; trap 'kill $pid 2>/dev/null' EXIT; cat >/dev/null"
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server (install it with: python3 -m pip install 'moto[server]')");
        let start = Instant::now();
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read(&mut buf).is_ok_and(|n| n > 0) {
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not answer on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The child's standard input stays open for as long as this static lives: the process.
        Moto { port, _child: Mutex::new(child) }
    })
}

/// A tokio runtime for the tests' own S3 calls.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// An S3 client straight to moto (not through a proxy), for setting up buckets.
pub fn client() -> aws_sdk_s3::Client {
    let creds = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(moto().url())
        .force_path_style(true)
        .credentials_provider(creds)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub fn create_bucket(bucket: &str) {
    let c = client();
    rt().block_on(async { c.create_bucket().bucket(bucket).send().await.unwrap() });
}

/// Uploads `(key, bytes)` pairs, a few at a time.
pub fn put_objects(bucket: &str, objects: Vec<(String, Vec<u8>)>) {
    let c = client();
    rt().block_on(async {
        use futures::StreamExt;
        let puts = objects.into_iter().map(|(k, b)| {
            let c = c.clone();
            async move {
                c.put_object()
                    .bucket(bucket)
                    .key(&k)
                    .body(b.into())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("put {k}: {e:?}"))
            }
        });
        futures::stream::iter(puts).buffer_unordered(8).collect::<Vec<_>>().await;
    });
}

/// Uploads one object with user metadata (`x-amz-meta-*`), as CloudTrail stores a digest
/// with its `signature` and `signature-algorithm`.
pub fn put_object_with_metadata(bucket: &str, key: &str, bytes: Vec<u8>, metadata: &[(&str, &str)]) {
    let c = client();
    rt().block_on(async {
        let mut req = c.put_object().bucket(bucket).key(key).body(bytes.into());
        for (k, v) in metadata {
            req = req.metadata(*k, *v);
        }
        req.send().await.unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    });
}

/// Every file under `root`, as (key relative to root with `/`, bytes).
pub fn files_under(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut paths = Vec::new();
    walk(root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// One request as the proxy saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
}

impl Seen {
    /// The value of a query parameter, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| percent_decode(v))
        })
    }
    /// The path without the query, decoded.
    pub fn path(&self) -> String {
        percent_decode(self.target.split('?').next().unwrap_or(""))
    }
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.param("list-type").is_some()
    }
    pub fn is_get_object(&self) -> bool {
        self.method == "GET" && !self.is_list() && self.path().matches('/').count() >= 2
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the proxy does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Answers with this status and S3 error code instead of asking moto.
    Error(u16, &'static str),
    /// Sends the head and half of moto's body, then closes the connection.
    Cut,
    /// Answers 403 AccessDenied as S3 does when the identity may not use an object's KMS key.
    KmsDenied,
    /// Answers with this status and error type as the JSON protocols (CloudWatch Logs) do.
    #[allow(dead_code)]
    JsonError(u16, &'static str),
    /// Answers FilterLogEvents with no events and the request's own nextToken (if any): a page
    /// that is empty but not the last.
    #[allow(dead_code)]
    EmptyPage,
    /// Answers 200 with this JSON body, as the JSON protocols (Athena) do.
    #[allow(dead_code)]
    Json(String),
}

/// Decides for a request, given its operation (`X-Amz-Target` of the JSON protocols, empty
/// otherwise) and how many times the same method and target were seen before.
type Rule = dyn Fn(&Seen, &str, usize) -> Fault + Send + Sync;

/// A proxy in front of moto on its own port, for one test.
pub struct Proxy {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    /// A proxy that passes everything.
    pub fn start() -> Proxy {
        Proxy::with_faults(|_, _| Fault::Pass)
    }

    /// A proxy that asks `rule` what to do with each request; the rule is given the request and
    /// how many times the same method and target were seen before.
    pub fn with_faults(rule: impl Fn(&Seen, usize) -> Fault + Send + Sync + 'static) -> Proxy {
        Proxy::with_rule(move |seen, _, before| rule(seen, before))
    }

    /// A proxy that asks `rule` what to do with each request, given the operation too
    /// (`X-Amz-Target`, for the JSON protocols).
    #[allow(dead_code)]
    pub fn with_rule(rule: impl Fn(&Seen, &str, usize) -> Fault + Send + Sync + 'static) -> Proxy {
        let upstream = moto().port;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Default::default();
        let rule: Arc<Rule> = Arc::new(rule);
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (log, rule) = (log.clone(), rule.clone());
                std::thread::spawn(move || serve(conn, upstream, &log, rule.as_ref()));
            }
        });
        Proxy { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

/// Serves one request of a client connection (every answer closes the connection).
fn serve(mut conn: TcpStream, upstream: u16, log: &Mutex<Vec<Seen>>, rule: &Rule) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let Some(head) = read_head(&mut conn) else { return };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut first = text.lines().next().unwrap_or("").split(' ');
    let seen = Seen { method: first.next().unwrap_or("").to_string(), target: first.next().unwrap_or("").to_string() };
    let before = {
        let mut l = log.lock().unwrap();
        let n = l.iter().filter(|s| **s == seen).count();
        l.push(seen.clone());
        n
    };
    let len: usize = text
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if conn.read_exact(&mut body).is_err() {
        return;
    }
    let operation = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("x-amz-target").then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let fault = rule(&seen, &operation, before);
    let (fault, message) = match fault {
        Fault::KmsDenied => (
            Fault::Error(403, "AccessDenied"),
            "User: arn:aws:iam::123456789012:user/t is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext".to_string(),
        ),
        Fault::Error(_, code) => (fault.clone(), format!("injected {code}")),
        other => (other, String::new()),
    };
    match fault {
        Fault::EmptyPage => {
            let token = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("nextToken").and_then(|t| t.as_str()).map(str::to_string));
            let mut answer = serde_json::json!({"events": [], "searchedLogStreams": []});
            if let Some(t) = token {
                answer["nextToken"] = serde_json::Value::String(t);
            }
            let body = answer.to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
        Fault::Json(body) => {
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
        Fault::JsonError(status, code) => {
            let body = format!("{{\"__type\":\"{code}\",\"message\":\"injected {code}\"}}");
            let reply = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
        Fault::Error(status, code) => {
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>test</RequestId></Error>"
            );
            let body = if seen.method == "HEAD" { "" } else { xml.as_str() };
            let reply = format!(
                "HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
        fault => {
            let Some(reply) = forward(&text, &body, upstream) else { return };
            if fault == Fault::Cut {
                let head_end = reply.windows(4).position(|w| w == b"\r\n\r\n").map_or(reply.len(), |p| p + 4);
                let cut = head_end + (reply.len() - head_end) / 2;
                let _ = conn.write_all(&reply[..cut]);
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
            let _ = conn.write_all(&reply);
        }
    }
}

fn read_head(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// Sends a request to moto with `Connection: close` and reads the whole answer.
fn forward(head: &str, body: &[u8], upstream: u16) -> Option<Vec<u8>> {
    let mut lines: Vec<&str> = head.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    let mut req = lines.join("\r\n");
    req.push_str("\r\nConnection: close\r\n\r\n");
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    up.write_all(req.as_bytes()).ok()?;
    up.write_all(body).ok()?;
    let mut reply = Vec::new();
    up.read_to_end(&mut reply).ok()?;
    Some(reply)
}

/// The environment the program under test runs S3 with: test credentials, no profile, no
/// instance metadata.
pub fn aws_env(cmd: &mut Command) -> &mut Command {
    for v in ["AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}
