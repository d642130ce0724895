#!/usr/bin/env python3
"""benchtool: the parts of tests/load/bench that are easier in Python.

Standard library only.  Subcommands (each prints to stdout, errors to
stderr, exit status 1 on failure):

  capture LOG START END DIR LABEL=REQUEST_ID:PIPELINE...
      Read the PostgreSQL server log between byte offsets START and END
      (written while finicom_app had log_statement = 'all'), find for each
      request id the transaction of the worker that served it (the
      statement whose bound parameters contain the id, from the BEGIN
      before it to the COMMIT after it), and write DIR/LABEL.pgbench: a
      pgbench script that sends the same statements with the same bound
      parameters, in the same transaction.  PIPELINE: "2" = two round
      trips (BEGIN + the context statement, then the rest + COMMIT);
      "1" = all in one pipeline; "0" = no pipeline.  DIR/LABEL.mode: the
      pgbench -M to use ("prepared" when the worker ran named prepared
      statements, else "extended").  DIR/LABEL.check.sql: the same
      transaction for psql.  The parameters (token hashes among them) go
      only into those files (mode 0600); stdout gets the statements' SQL
      text without them, for the record.
  redact LOG START END
      Overwrite, in place and with the same number of bytes, every token
      hash (a 32-byte bytea literal) and password hash logged between
      START and END, so the server log keeps none of them.  Writers that
      append to the log (the server) are not disturbed: bytes after END
      are not touched.
  backends WORKER_PID...
      The PostgreSQL backend pids at the other end of the workers' unix
      socket connections (from `ss -xpn`), one a line.
  literal FILE NAME=VALUE...
      The pgbench script FILE with :NAME replaced by a quoted literal, for
      psql (the check that a floor query gives the API's reply).
  samejson A B
      Exit 0 when files A and B hold the same JSON value, else say where
      they differ and exit 1.
  sameitems API_REPLY SQL_OUTPUT
      Exit 0 when the reply of the captured SQL (psql -tA -F US output of
      LABEL.check.sql) has the same items, by id, as the API's reply.
  get PATH
      Read JSON from stdin and print the member at PATH (a.b.0.c).
  smaps PID...
      "rss_max pss_max rss_mean pss_mean n" in KiB from /proc/PID/smaps_rollup.
  table RESULTS
      Print the bench's table from RESULTS (key=value lines).
"""
import json
import os
import re
import subprocess
import sys

# --------------------------------------------------------------------------
# the server log

# A log entry starts with the prefix (log_line_prefix) and a level; lines
# that continue an entry start with a tab.
ENTRY_RE = re.compile(
    r"^(?P<head>.*?)\b(?P<level>LOG|DETAIL|ERROR|STATEMENT|HINT|CONTEXT|WARNING|NOTICE|"
    r"FATAL|PANIC|INFO|DEBUG\d?):  (?P<msg>.*)$")
PID_RE = re.compile(r"\[(\d+)\]")
STMT_RE = re.compile(r"^(?:execute (?P<name>[^:]*)|statement): (?P<sql>.*)$", re.S)
PARAM_RE = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')", re.S)


def read_entries(path, start, end):
    """[(pid, level, message)] of the log between byte offsets start and end."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(max(0, end - start))
    entries = []
    for raw in data.decode("utf-8", "replace").split("\n"):
        if raw.startswith("\t") and entries:
            pid, level, msg = entries[-1]
            entries[-1] = (pid, level, msg + "\n" + raw[1:])
            continue
        m = ENTRY_RE.match(raw)
        if not m:
            continue
        p = PID_RE.search(m.group("head"))
        if p:
            entries.append((int(p.group(1)), m.group("level"), m.group("msg")))
    return entries


def statements(entries):
    """{pid: [[sql, {n: value or None}, prepared name or None]]} in execution order."""
    by_pid = {}
    for pid, level, msg in entries:
        if level == "LOG":
            m = STMT_RE.match(msg)
            if m:
                name = m.group("name")
                by_pid.setdefault(pid, []).append([m.group("sql"), {}, None if name in (None, "<unnamed>")
                                                   else name])
        elif level == "DETAIL" and msg.startswith("parameters: ") and by_pid.get(pid):
            params = {}
            for n, v in PARAM_RE.findall(msg[len("parameters: "):]):
                params[int(n)] = None if v == "NULL" else v[1:-1].replace("''", "'")
            by_pid[pid][-1][1] = params
    return by_pid


def is_word(sql, *words):
    return sql.strip().rstrip(";").strip().upper() in words


def transaction_of(by_pid, request_id):
    """The statements of the transaction whose parameters hold request_id."""
    for pid, stmts in by_pid.items():
        for i, (sql, params, _) in enumerate(stmts):
            if request_id not in params.values():
                continue
            if i > 0 and is_word(stmts[i - 1][0], "BEGIN", "START TRANSACTION"):
                # An explicit transaction: BEGIN, the context, ..., COMMIT.
                first, last = i - 1, i
                while last < len(stmts) - 1 and not is_word(stmts[last][0], "COMMIT", "END"):
                    last += 1
            else:
                # A one-trip read: the context and the query in one implicit
                # transaction (one pipeline, one Sync), no BEGIN or COMMIT.
                first, last = i, min(i + 1, len(stmts) - 1)
            return pid, stmts[first:last + 1], i - first
    return None, None, None


# pgbench reads ":name" as a variable anywhere in a command, also inside
# string literals.  A literal 'a:b' is split into 'a:'<newline>'b', which
# SQL reads as the same constant (adjacent literals separated by a newline).
LITERAL_OR_PARAM = re.compile(r"'(?:[^']|'')*'|\$(\d+)(?!\d)")


def pgbench_safe_literal(lit):
    return re.sub(r":(?=[A-Za-z0-9_])", ":'\n'", lit)


def rewrite(sql, subst):
    """sql with each $N replaced by subst(N) and literals made pgbench-safe."""
    def one(m):
        if m.group(1) is None:
            return pgbench_safe_literal(m.group(0))
        return subst(int(m.group(1)))
    return LITERAL_OR_PARAM.sub(one, sql)


def sql_literal(v):
    return pgbench_safe_literal("'" + v.replace("'", "''") + "'")


def write_private(path, lines):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")


def cmd_capture(args):
    log, start, end, outdir = args[0], int(args[1]), int(args[2]), args[3]
    by_pid = statements(read_entries(log, start, end))
    ok = True
    for spec in args[4:]:
        label, _, rest = spec.partition("=")
        rid, _, pipeline = rest.partition(":")
        pid, tx, ctx_index = transaction_of(by_pid, rid)
        if tx is None:
            print("%s: no logged statement has request id %s as a parameter" % (label, rid),
                  file=sys.stderr)
            ok = False
            continue
        names, body = {}, []
        for k, (sql, params, _) in enumerate(tx, 1):
            def subst(n, k=k, params=params):
                if n not in params:
                    raise SystemExit("%s: statement %d uses $%d but the log has no value for it"
                                     % (label, k, n))
                if params[n] is None:
                    # pgbench has no NULL parameter; the worker's unnamed
                    # statement is planned with its values, so a NULL
                    # constant is planned the same way.
                    return "NULL"
                name = "s%dp%d" % (k, n)
                if name not in names:
                    names[name] = params[n]
                return ":" + name
            body.append(rewrite(sql.rstrip().rstrip(";"), subst) + ";")
        lines = ["-- captured from the worker (pid %d's backend), request %s" % (pid, rid)]
        if names:
            # The values are read once per client into variables, then bound
            # as parameters (-M extended) like the worker's.
            lines.append("\\if :bench_init = 0")
            lines.append("SELECT " + ", ".join("%s AS %s" % (sql_literal(v), n) for n, v in names.items())
                         + " \\gset")
            lines.append("\\set bench_init 1")
            lines.append("\\endif")
        if pipeline != "1" and not is_word(tx[0][0], "BEGIN", "START TRANSACTION"):
            # An implicit transaction sent in more than one round trip
            # needs the BEGIN and COMMIT the worker left out.
            body = ["BEGIN;"] + body + ["COMMIT;"]
            ctx_index += 1
        if pipeline == "2" and 0 < ctx_index + 1 < len(body):
            groups = [body[:ctx_index + 1], body[ctx_index + 1:]]
        elif pipeline in ("1", "2"):
            groups = [body]
        else:
            groups = [[b] for b in body]
        for g in groups:
            if pipeline != "0":
                lines.append("\\startpipeline")
            lines.extend(g)
            if pipeline != "0":
                lines.append("\\endpipeline")
        write_private(os.path.join(outdir, label + ".pgbench"), lines)
        # The same transaction for psql, parameters as literals, only the
        # reply's statement (the last one before COMMIT, if any) printed:
        # the bench checks that it gives the API's items.
        reply = len(tx) - 1 if is_word(tx[-1][0], "COMMIT", "END") else len(tx)
        check = ["\\set ON_ERROR_STOP 1"]
        if not is_word(tx[0][0], "BEGIN", "START TRANSACTION"):
            check.append("BEGIN;")
        for k, (sql, params, _) in enumerate(tx, 1):
            text = LITERAL_OR_PARAM.sub(
                lambda m, params=params: m.group(0) if m.group(1) is None else
                ("NULL" if params.get(int(m.group(1))) is None
                 else "'" + params[int(m.group(1))].replace("'", "''") + "'"), sql.rstrip().rstrip(";"))
            check.append("\\o" if k == reply else "\\o /dev/null")
            check.append(text + ";")
        if not is_word(tx[-1][0], "COMMIT", "END"):
            check.append("\\o /dev/null")
            check.append("COMMIT;")
        write_private(os.path.join(outdir, label + ".check.sql"), check)
        # Named statements (the worker's prepared ones) -> pgbench -M
        # prepared, which prepares each statement once per session too;
        # unnamed ones (PQsendQueryParams) -> -M extended.
        mode = "prepared" if any(name for _, _, name in tx) else "extended"
        write_private(os.path.join(outdir, label + ".mode"), [mode])
        print("%s: %d statements, %d round trip%s%s, %s (pgbench -M %s)" % (
            label, len(tx), len(groups), "" if len(groups) == 1 else "s",
            "" if pipeline != "0" else " (no pipeline)",
            "named prepared statements" if mode == "prepared" else "unnamed statements", mode))
        for k, (sql, params, name) in enumerate(tx, 1):
            print("  %d. %s%s%s" % (k, "[%s] " % name if name else "", sql.strip(),
                                    "   [%d parameters]" % len(params) if params else ""))
    return 0 if ok else 1


# 32-byte bytea literals (token and session hashes) and Argon2 PHC strings.
SECRET_RE = re.compile(rb"\\x[0-9a-fA-F]{64}|\$argon2id?\$[^'\s,]+")


def cmd_redact(args):
    log, start, end = args[0], int(args[1]), int(args[2])
    with open(log, "r+b") as f:
        f.seek(start)
        data = f.read(max(0, end - start))
        n = 0

        def mask(m):
            nonlocal n
            n += 1
            s = m.group(0)
            if s.startswith(b"\\x") and s[2:].strip(b"0") == b"":
                n -= 1
                return s  # an all-zero hash (the start of an audit chain) is no secret
            return s[:2] + b"*" * (len(s) - 2) if s.startswith(b"\\x") else b"*" * len(s)
        out = SECRET_RE.sub(mask, data)
        if out != data:
            f.seek(start)
            f.write(out)
    print(n)
    return 0


# --------------------------------------------------------------------------
# processes


def cmd_backends(args):
    workers = {int(a) for a in args}
    out = subprocess.run(["ss", "-xpn"], capture_output=True, text=True, check=True).stdout
    owner, peer_of = {}, {}
    for line in out.splitlines():
        f = line.split()
        pid = re.search(r"pid=(\d+)", line)
        if len(f) < 8 or not pid or not f[5].isdigit() or not f[7].isdigit():
            continue
        owner[int(f[5])] = int(pid.group(1))
        peer_of[int(f[5])] = int(f[7])
    for inode, pid in sorted(owner.items()):
        if pid in workers and peer_of.get(inode) in owner:
            backend = owner[peer_of[inode]]
            if backend not in workers:
                print(backend)
    return 0


def cmd_smaps(args):
    rss, pss = [], []
    for pid in args:
        try:
            with open("/proc/%s/smaps_rollup" % pid) as f:
                vals = dict(re.findall(r"^(\w+):\s+(\d+) kB", f.read(), re.M))
        except OSError:
            continue
        rss.append(int(vals.get("Rss", 0)))
        pss.append(int(vals.get("Pss", 0)))
    if not rss:
        return 1
    print(max(rss), max(pss), sum(rss) // len(rss), sum(pss) // len(pss), len(rss))
    return 0


# --------------------------------------------------------------------------
# JSON


def cmd_literal(args):
    with open(args[0]) as f:
        text = f.read()
    for a in args[1:]:
        name, _, value = a.partition("=")
        text = re.sub(r"(?<!:):%s\b" % re.escape(name), "'" + value.replace("'", "''") + "'", text)
    print(text)
    return 0


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return "%s: %r vs %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (path, k, "the first" if k in a else "the second")
            d = first_difference(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r vs %r" % (path, a, b)


def cmd_samejson(args):
    try:
        with open(args[0]) as f:
            a = json.load(f)
        with open(args[1]) as f:
            b = json.load(f)
    except (OSError, ValueError) as e:
        print("not JSON: %s" % e)
        return 1
    d = first_difference(a, b)
    if d:
        print(d[:300])
        return 1
    return 0


def item_key(item):
    if isinstance(item, dict):
        if "id" in item:
            return item["id"]
        if isinstance(item.get("user"), dict):
            return item["user"].get("id")
    return json.dumps(item, sort_keys=True)


def cmd_sameitems(args):
    """API reply file, psql output file (items<US>cursor): the same items, by id?"""
    try:
        with open(args[0]) as f:
            api = json.load(f)["items"]
        with open(args[1]) as f:
            items = json.loads(f.read().rstrip("\n").split("\x1f")[0])
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("cannot compare: %s" % e)
        return 1
    a, b = [item_key(i) for i in api], [item_key(i) for i in items]
    if a != b:
        print("the API has %d items, the SQL %d%s" % (len(a), len(b), "" if len(a) != len(b) else
              " (other ones)"))
        return 1
    print(len(a))
    return 0


def cmd_get(args):
    v = json.load(sys.stdin)
    for part in args[0].split("."):
        v = v[int(part)] if isinstance(v, list) else v[part]
    print(v if isinstance(v, str) else json.dumps(v))
    return 0


# --------------------------------------------------------------------------
# the table

# Rows: (key, label, reference key, target kind, target value).
# Target kinds: "ratio>=" (the row's ratio to its reference), "cpu<=" (PG
# CPU µs/request), "both" (ratio>= and cpu<=), "rss<=" (KiB), "ratio<=".
ROWS = [
    ("members_e2e", "GET members, end to end (wrk)", "members_floor", "both", (0.5, 1000.0)),
    ("members_sql", "GET members, the worker's SQL (pgbench)", "members_floor", None, None),
    ("members_floor", "GET members, floor SQL (pgbench)", None, None, None),
    ("nginx", "nginx return 200 (/bench/nginx-200)", None, None, None),
    ("healthz", "GET /healthz (finicomd)", "nginx", "ratio>=", 0.35),
    ("sources_e2e", "GET sources, end to end (wrk)", "sources_floor", None, None),
    ("sources_sql", "GET sources, the worker's SQL (pgbench)", "sources_floor", None, None),
    ("sources_floor", "GET sources, floor SQL (pgbench)", None, None, None),
    ("audit_e2e", "GET audit-events, end to end (wrk)", "audit_floor", None, None),
    ("audit_sql", "GET audit-events, the worker's SQL (pgbench)", "audit_floor", None, None),
    ("audit_floor", "GET audit-events, floor SQL (pgbench)", None, None, None),
    ("post_e2e_audit", "POST sources, audit trigger on (wrk)", "post_e2e_plain", "ratio>=", 0.7),
    ("post_e2e_plain", "POST sources, audit trigger off (wrk)", None, None, None),
    ("post_sql_audit", "INSERT source, trigger on (audit-bench)", "post_sql_plain", "ratio>=", 0.7),
    ("post_sql_plain", "INSERT source, trigger off (audit-bench)", None, None, None),
    ("login", "POST /auth/login (wrk, private nginx)", "argon2", "ratio>=", 0.8),
    ("argon2", "argon2 CLI, same parameters", None, None, None),
    ("rss", "worker RSS (max) after the logins", None, "rss<=", 8 * 1024),
    ("pss", "worker PSS (max) after the logins", None, None, None),
    ("p50_small", "GET members p50 latency, the orgs there are", None, None, None),
    ("p50_large", "GET members p50 latency, with the seeded orgs", "p50_small", "ratio<=", 1.2),
]


def fnum(v, digits=0):
    return "{:,.{d}f}".format(v, d=digits)


def cmd_table(args):
    res = {}
    with open(args[0]) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            if k.endswith(".note") and res.get(k):
                res[k] += "; " + v
            elif k:
                res[k] = v

    def num(key):
        try:
            return float(res[key])
        except (KeyError, ValueError):
            return None

    out, targets = [], []
    for i, (key, label, ref, kind, target) in enumerate(ROWS, 1):
        rate, cpu, unit = num(key + ".rate"), num(key + ".cpu_us"), res.get(key + ".unit", "req/s")
        wcpu = num(key + ".worker_us")
        label = res.get(key + ".label", label)
        value = "-"
        if rate is not None:
            if unit == "KiB":
                value = "%.1f MiB" % (rate / 1024)
            elif unit == "ms":
                value = "%.3f ms" % rate
            else:
                value = "%s %s" % (fnum(rate, 1 if rate < 100 else 0), unit)
        note = res.get(key + ".note", "")
        if rate is None and not note:
            note = "not measured"
        ratio = None
        if ref and rate is not None and num(ref + ".rate"):
            ratio = rate / num(ref + ".rate")
        verdict, tgt = "", ""
        if kind == "both":
            tgt = ">=%.2fx, CPU<=%d us" % target
            if ratio is not None and cpu is not None:
                bad = [w for w, ok in (("ratio", ratio >= target[0]), ("cpu", cpu <= target[1])) if not ok]
                verdict = "PASS" if not bad else "FAIL " + "+".join(bad)
        elif kind == "ratio>=":
            tgt = ">=%.2fx" % target
            if ratio is not None:
                verdict = "PASS" if ratio >= target else "FAIL"
        elif kind == "ratio<=":
            tgt = "<=%.2fx" % target
            if ratio is not None:
                verdict = "PASS" if ratio <= target else "FAIL"
        elif kind == "rss<=":
            tgt = "<=%d MiB" % (target // 1024)
            if rate is not None:
                verdict = "PASS" if rate <= target else "FAIL"
        if kind and not verdict:
            verdict = "n/a"
        refname = ""
        if ref:
            refname = "row %d" % ([r[0] for r in ROWS].index(ref) + 1)
        r = "-" if ratio is None else "%.3f" % ratio
        c = "-" if cpu is None else fnum(cpu)
        if kind == "both":
            targets.append((i, "PG CPU per " + label.split(",")[0], "%s us (target <= %d us)" % (c, target[1]),
                            "n/a" if cpu is None else "PASS" if cpu <= target[1] else "FAIL"))
            targets.append((i, label + " / floor", "%s (target >= %.2f)" % (r, target[0]),
                            "n/a" if ratio is None else "PASS" if ratio >= target[0] else "FAIL"))
        elif kind in ("ratio>=", "ratio<="):
            targets.append((i, "%s / row %s" % (label, refname.split()[-1] if refname else "?"),
                            "%s (target %s %.2f)" % (r, kind[5:], target), verdict))
        elif kind == "rss<=":
            targets.append((i, label, "%s (target <= %d MiB)" % (value, target // 1024), verdict))
        out.append((str(i), label, value, "-" if cpu is None else fnum(cpu, 1 if cpu < 10 else 0),
                    "-" if wcpu is None else fnum(wcpu, 1 if wcpu < 10 else 0),
                    "-" if ratio is None else "%.3f" % ratio, refname, tgt, verdict, note))
    head = ("#", "measurement", "value", "PG CPU us/req", "worker CPU us/req", "ratio", "to", "target",
            "result", "notes")
    widths = [max(len(r[c]) for r in out + [head]) for c in range(len(head))]
    right = {0, 2, 3, 4, 5}

    def fmt(r):
        cells = [r[c].rjust(widths[c]) if c in right else r[c].ljust(widths[c]) for c in range(len(r))]
        return ("| " + " | ".join(cells) + " |").rstrip()
    print(fmt(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in out:
        print(fmt(r))
    print()
    print("Targets (issue 11), against the rows above:")
    for i, what, measured, verdict in targets:
        print("  %-5s row %-3s %-44s %s" % (verdict.split()[0], i, what, measured))
    for line in res.get("footer", "").split("\\n"):
        if line:
            print(line)
    return 0


COMMANDS = {
    "capture": cmd_capture, "redact": cmd_redact, "backends": cmd_backends, "smaps": cmd_smaps,
    "literal": cmd_literal, "samejson": cmd_samejson, "sameitems": cmd_sameitems, "get": cmd_get, "table": cmd_table,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
