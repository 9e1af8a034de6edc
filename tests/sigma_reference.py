"""Reference detections for tests/sigma_reference.rs: pySigma's SQLite backend.

Usage: sigma_reference.py RULES_DIR INPUT...

Each rule is converted to SQL by pySigma (pysigma-backend-sqlite); the records of the inputs
(JSON arrays, {"Records": [...]}, or JSON Lines) are flattened into one SQLite table, a column
per dotted field path (objects and arrays as their compact JSON as well; names kept exact, see
column()), text compared without case (COLLATE NOCASE, as Sigma compares strings), and each
query is run. Prints one
JSON object: {"pairs": [[rule_id, eventID], ...], "errors": {file: message}}; a record without
an eventID counts as "".
"""

import glob
import json
import os
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldFunctionTransformation


def records(path):
    files = []
    if os.path.isdir(path):
        for root, _, names in os.walk(path):
            files += [os.path.join(root, n) for n in names]
    else:
        files = [path]
    for f in sorted(files):
        text = open(f, encoding="utf-8").read()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
            rows = []
            for line in text.splitlines():
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    rows = None
                    break
            if rows is None:
                continue  # not JSON (a README): trailscope skips it too
            doc = rows
        if isinstance(doc, dict):
            doc = doc.get("Records", [doc])
        for r in doc:
            if isinstance(r, dict):
                yield r


def text(v):
    """A value as Sigma compares it: strings as they are, the rest as compact JSON."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def column(field):
    """SQL names are case-insensitive, Sigma's field names are not (userIdentity.sessionContext
    is not the sessioncontext some records have): each capital letter becomes ^ and the letter,
    in the table and, through a pySigma pipeline, in every query."""
    return re.sub(r"[A-Z]", lambda m: "^" + m.group(0).lower(), field)


def flatten(rec, prefix="", out=None):
    """Column -> text, for every dotted path of the record."""
    out = {} if out is None else out
    for k, v in rec.items():
        path = prefix + k
        out[column(path)] = text(v)
        if isinstance(v, dict):
            flatten(v, path + ".", out)
    return out


def regexp(pattern, value):
    # Sigma's |re is a search, case-sensitive; a null field does not match.
    if value is None:
        return None
    return re.search(pattern, value) is not None


def main():
    rules_dir, inputs = sys.argv[1], sys.argv[2:]
    rows = [flatten(r) for i in inputs for r in records(i)]
    columns = sorted({c for r in rows for c in r})
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp)

    def quote(c):
        return "`" + c.replace("`", "``") + "`"

    db.execute("CREATE TABLE logs (" + ", ".join(f"{quote(c)} TEXT COLLATE NOCASE" for c in columns) + ")")
    for r in rows:
        cols = list(r)
        db.execute(
            f"INSERT INTO logs ({', '.join(quote(c) for c in cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [r[c] for c in cols],
        )
    rename = FieldFunctionTransformation(mapping={}, transform_func=column)
    backend = sqliteBackend(processing_pipeline=ProcessingPipeline(items=[ProcessingItem(transformation=rename)]))
    pairs, errors = set(), {}
    for f in sorted(glob.glob(os.path.join(rules_dir, "**", "*.y*ml"), recursive=True)):
        try:
            coll = SigmaCollection.from_yaml(open(f, encoding="utf-8").read())
            rule = coll.rules[0]
            queries = backend.convert(coll)
        except Exception as e:  # a rule pySigma cannot convert
            errors[f] = str(e)
            continue
        for q in queries:
            while True:
                try:
                    cur = db.execute(q)
                    break
                except sqlite3.OperationalError as e:
                    m = re.match(r"no such column: (.+)", str(e))
                    if not m:
                        raise
                    # A field no record has: every record lacks it (null).
                    db.execute(f"ALTER TABLE logs ADD COLUMN {quote(m.group(1))} TEXT COLLATE NOCASE")
            names = [d[0] for d in cur.description]
            at = names.index(column("eventID")) if column("eventID") in names else None
            for row in cur:
                eid = row[at] if at is not None and row[at] is not None else ""
                pairs.add((str(rule.id), eid))
    json.dump({"pairs": sorted(pairs), "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
