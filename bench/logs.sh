#!/usr/bin/env bash
# CloudTrail in CloudWatch Logs: `trailscope print --log-group` against moto_server on loopback,
# beside `print` of the same records from a JSON Lines file and `aws logs filter-log-events`
# (the aws CLI paging the same group to the end). EVENTS records (default 100000) from the
# project's generator, in the streams a trail writes. Needs a release build
# (target/release/trailscope), moto_server, the aws CLI and boto3.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-100000}
RUNS=${RUNS:-3}
TS=${TS:-target/release/trailscope}
DIR=${BENCH_DIR:-$(mktemp -d)}
PORT=${PORT:-5997}
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export TRAILSCOPE_NO_CACHE=1
moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null' EXIT
sleep 3
END=$(( $(date +%s) - 600 ))
cargo run -q --release -p trailscope-gen -- --events "$EVENTS" --per-file 100 --seed 1 --span 20h \
  --end "$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)" --accounts 2 --regions 3 --no-hostile --no-digests \
  "$DIR/archive" >/dev/null
python3 - "$DIR" "$PORT" <<'PY'
import sys, os, gzip, json, boto3
d, port = sys.argv[1], sys.argv[2]
recs = []
for root, _, files in os.walk(os.path.join(d, "archive")):
    for f in files:
        if f.endswith(".json.gz") and "Digest" not in root:
            recs += json.load(gzip.open(os.path.join(root, f)))["Records"]
with open(os.path.join(d, "records.jsonl"), "w") as out:
    for r in recs:
        out.write(json.dumps(r) + "\n")
from datetime import datetime
def ms(r): return int(datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").timestamp() * 1000)
c = boto3.client("logs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
c.create_log_group(logGroupName="bench")
streams = {}
for r in recs:
    streams.setdefault(f'{r["recipientAccountId"]}_CloudTrail_{r["awsRegion"]}', []).append((ms(r), json.dumps(r)))
for s, evs in streams.items():
    c.create_log_stream(logGroupName="bench", logStreamName=s)
    evs.sort()
    batch, size = [], 0
    for t, m in evs:
        batch.append({"timestamp": t, "message": m}); size += len(m) + 26
        if len(batch) == 5000 or size > 800_000:
            c.put_log_events(logGroupName="bench", logStreamName=s, logEvents=batch); batch, size = [], 0
    if batch:
        c.put_log_events(logGroupName="bench", logStreamName=s, logEvents=batch)
print(f"{len(recs)} records in {len(streams)} streams", file=sys.stderr)
PY
time_of() { /usr/bin/time -f "%e s, %M KB" "$@" 2>&1 >/dev/null | tail -1; }
for i in $(seq "$RUNS"); do
  echo "run $i (load $(cut -d' ' -f1 /proc/loadavg))"
  echo "  file:      $(time_of "$TS" print --since 1d "$DIR/records.jsonl")"
  echo "  log group: $(time_of "$TS" print --since 1d --endpoint-url "http://127.0.0.1:$PORT" --log-group bench)"
  echo "  filtered:  $(time_of "$TS" print --since 1d --endpoint-url "http://127.0.0.1:$PORT" --log-group bench -f 'region:=us-east-1 -user:alice')"
  echo "  aws CLI:   $(time_of aws --endpoint-url "http://127.0.0.1:$PORT" logs filter-log-events --log-group-name bench --output json)"
done

# Pacing: small pages (PAGE records each), so that the service's limit of 5 FilterLogEvents
# requests a second, not the server, bounds the rate. The server's own rate for the same pages
# is measured alone first (boto3 paging to the end, nothing else done with the pages); then
# trailscope's, from its own count of pages. Target: at most 5 pages/s, and at least 90% of
# min(5/s, the server's rate alone).
PAGE=${PAGE:-200}
SINCE_MS=$(( ($(date +%s) - 86400) * 1000 ))
UNTIL_MS=$(( $(date +%s) * 1000 ))
for i in $(seq "$RUNS"); do
  alone=$(python3 - "$PORT" "$PAGE" "$SINCE_MS" "$UNTIL_MS" <<'PY'
import sys, time, boto3
port, page, since, until = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = boto3.client("logs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
kw = dict(logGroupName="bench", limit=page, startTime=since, endTime=until)
pages, t0 = 0, time.time()
while True:
    out = c.filter_log_events(**kw)
    pages += 1
    if not out.get("nextToken"):
        break
    kw["nextToken"] = out["nextToken"]
    if pages >= 600:
        break
print(f"{pages} {time.time() - t0:.2f}")
PY
)
  set -- $alone
  a_pages=$1 a_secs=$2
  start=$(date +%s.%N)
  report=$("$TS" print --since 1d --endpoint-url "http://127.0.0.1:$PORT" --log-group bench --logs-page-size "$PAGE" 2>&1 >/dev/null | grep -o '[0-9]* pages' | head -1)
  end=$(date +%s.%N)
  t_pages=${report% pages}
  python3 - "$a_pages" "$a_secs" "$t_pages" "$start" "$end" <<'PY'
import sys
ap, asec, tp, s, e = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
alone = ap / asec
rate = tp / (e - s)
target = min(5.0, alone)
print(f"  pacing: server alone {alone:.2f} pages/s ({ap} pages in {asec:.1f} s); "
      f"trailscope {rate:.2f} pages/s ({tp} pages in {e - s:.1f} s) = {rate / target:.0%} of min(5/s, server alone); "
      f"{'at most 5/s' if rate <= 5.05 else 'OVER 5/s'}")
PY
done
