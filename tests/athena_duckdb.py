"""Runs trailscope's Athena SQL over local CloudTrail files in DuckDB.

Usage: athena_duckdb.py SQL_FILE PATH...

SQL_FILE holds a JSON list of SQL statements (Athena/Trino dialect). Each is parsed by
sqlglot as Trino and transpiled to DuckDB, then run over a table that mirrors the documented
CloudTrail table (columns lower-cased, requestparameters and the other JSON columns as JSON
text, "$path" from the file, "timestamp" from the key's yyyy/MM/dd or else the event's day).
Prints a JSON list: for each statement, the sorted list of its first column's values.
"""

import gzip
import json
import os
import re
import sys
import tempfile

import duckdb
import sqlglot

STRING_COLUMNS = [
    "eventversion", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress",
    "useragent", "errorcode", "errormessage", "requestparameters", "responseelements",
    "additionaleventdata", "requestid", "eventid", "readonly", "eventtype", "apiversion",
    "recipientaccountid", "serviceeventdetails", "sharedeventid", "vpcendpointid",
    "eventcategory", "sessioncredentialfromconsole",
]
IDENTITY = ["type", "principalid", "arn", "accountid", "invokedby", "accesskeyid", "username"]
ISSUER = ["type", "principalid", "arn", "accountid", "username"]


def as_string(v):
    """A JSON value as the Hive JsonSerDe gives it to a STRING column."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"))


def lower_keys(d):
    return {k.lower(): v for k, v in d.items()} if isinstance(d, dict) else {}


def row(record, path):
    r = lower_keys(record)
    out = {c: as_string(r.get(c)) for c in STRING_COLUMNS}
    ident = lower_keys(r.get("useridentity"))
    if r.get("useridentity") is None:
        out["useridentity"] = None
    else:
        u = {k: as_string(ident.get(k)) for k in IDENTITY}
        ctx = lower_keys(ident.get("sessioncontext"))
        issuer = lower_keys(ctx.get("sessionissuer"))
        u["sessioncontext"] = {"sessionissuer": {k: as_string(issuer.get(k)) for k in ISSUER}}
        out["useridentity"] = u
    res = r.get("resources")
    if isinstance(res, list):
        out["resources"] = [
            {k: as_string(lower_keys(x).get(k)) for k in ["arn", "accountid", "type"]} for x in res
        ]
    else:
        out["resources"] = None
    out["$path"] = path
    m = re.search(r"/(\d{4})/(\d{2})/(\d{2})/[^/]*$", path)
    if m:
        out["timestamp"] = "/".join(m.groups())
    else:
        t = out.get("eventtime") or ""
        out["timestamp"] = t[:10].replace("-", "/") if len(t) >= 10 else None
    return out


def records_of(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        return doc["Records"]
    if isinstance(doc, list):
        return doc
    return [doc]


def files_under(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                for n in sorted(names):
                    if n.endswith((".json", ".json.gz", ".jsonl")) and "Digest" not in n:
                        yield os.path.join(root, n)
        else:
            yield p


def main():
    statements = json.load(open(sys.argv[1]))
    rows = []
    for f in files_under(sys.argv[2:]):
        for rec in records_of(f):
            if isinstance(rec, dict):
                rows.append(row(rec, "s3://bucket/" + os.path.relpath(f, "/")))
    issuer = "STRUCT(" + ", ".join(f"{k} VARCHAR" for k in ISSUER) + ")"
    ident = "STRUCT(" + ", ".join(f"{k} VARCHAR" for k in IDENTITY) + f", sessioncontext STRUCT(sessionissuer {issuer}))"
    columns = {c: "VARCHAR" for c in STRING_COLUMNS}
    columns["useridentity"] = ident
    columns["resources"] = "STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[]"
    columns["$path"] = "VARCHAR"
    columns["timestamp"] = "VARCHAR"
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tmp:
        for r in rows:
            tmp.write(json.dumps(r) + "\n")
    con = duckdb.connect()
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    con.execute(f"CREATE TABLE cloudtrail AS SELECT * FROM read_json('{tmp.name}', columns={cols}, format='newline_delimited')")
    os.unlink(tmp.name)
    answers = []
    for sql in statements:
        duck = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
        try:
            got = con.execute(duck).fetchall()
        except Exception as e:  # say which statement failed and how it was transpiled
            print(f"DuckDB failed: {e}\n--- transpiled ---\n{duck}", file=sys.stderr)
            sys.exit(1)
        answers.append(sorted(str(r[0]) for r in got if r[0] is not None))
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
