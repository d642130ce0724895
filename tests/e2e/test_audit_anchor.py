"""The audit chain against a superuser (issue 12; docs/audit-anchors.md):
`finicomctl audit-anchor` appends every org's chain head to a file, and
`verify-audit --anchors FILE` reports a chain that no longer extends its
anchors, or an anchored org that is gone.  audit-anchor runs as
finicom_auditor; verify-audit as the superuser (audit.verify_chain needs
EXECUTE on audit.canonical, which finicom_auditor lacks: docs/audit-anchors.md);
the attacks are the stack's superuser's."""
import os
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client as fc  # noqa: E402
from client import create_org, psql, signup  # noqa: E402
from test_audit import org_path, sealed  # noqa: E402

CTL = os.path.join(os.environ.get("FINICOM_BUILD", "/nonexistent"), "src", "finicomctl")
AUDITOR = "host=%s port=%s dbname=%s user=finicom_auditor" % (fc.PGHOST, fc.PGPORT, fc.PGDATABASE)
SUPERUSER = "host=%s port=%s dbname=%s user=%s" % (fc.PGHOST, fc.PGPORT, fc.PGDATABASE, fc.PGUSER)
ZERO = "0" * 64


def ctl(*args, umask=None):
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def anchor(path, **kw):
    p = ctl("audit-anchor", "--file", str(path), "--database", AUDITOR, **kw)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p


def verify(path, org=None):
    args = ["verify-audit", "--anchors", str(path), "--database", SUPERUSER]
    return ctl(*args, *(["--org", org["id"]] if org else []))


def org_lines(p, org):
    return [line for line in p.stdout.splitlines() if line.startswith("org %s:" % org["id"])]


def head(org):
    return psql("SELECT seq || ' ' || encode(hash, 'hex') FROM audit.chain_heads WHERE org_id = $1", org["id"])


def busy_org(events=3, name="Anchor"):
    """An org with `events` sealed events (org.created, member.added, updates)."""
    admin = signup(name=name)
    org = create_org(admin)
    more(admin, org, events - 2)
    return admin, org


def more(admin, org, n):
    """n more events (org.updated: a new name each, not all ASCII, so the
    anchor check hashes UTF-8 as the database does), sealed."""
    for _ in range(n):
        more.counter += 1
        r = admin.patch(org_path(org), {"name": "Ånchor ✓ %d" % more.counter})
        assert r.status_code == 200, r.text
    sealed(org["id"])


more.counter = 0


def rewrite_chain(org, seq):
    """The superuser's attack: change event seq, hash it and every later event
    again, and move the chain head, with the append-only trigger disabled."""
    psql("SELECT set_config('anchor_test.org', $1, false); BEGIN; "
         "ALTER TABLE audit.events DISABLE TRIGGER events_append_only; "
         "UPDATE audit.events SET details = '{\"forged\": true}' WHERE org_id = $1 AND seq = $2; "
         "DO $$ DECLARE e audit.events; prev bytea := decode(repeat('00', 32), 'hex'); "
         "  o uuid := current_setting('anchor_test.org')::uuid; "
         "BEGIN "
         "  FOR e IN SELECT * FROM audit.events WHERE org_id = o AND seq IS NOT NULL ORDER BY seq LOOP "
         "    UPDATE audit.events SET prev_hash = prev, hash = sha256(prev || audit.canonical(e)) WHERE id = e.id; "
         "    prev := sha256(prev || audit.canonical(e)); "
         "  END LOOP; "
         "  UPDATE audit.chain_heads SET hash = prev WHERE org_id = o; "
         "END $$; "
         "ALTER TABLE audit.events ENABLE TRIGGER events_append_only; COMMIT", org["id"], seq)


def test_anchor_lines_are_the_chain_heads(tmp_path):
    _admin, org = busy_org(4)
    f = tmp_path / "anchors"
    p = anchor(f)
    assert "anchored" in p.stdout and str(f) in p.stdout, p.stdout
    mine = [line.split(" ") for line in f.read_text().splitlines() if line.split(" ")[1] == org["id"]]
    assert len(mine) == 1, mine
    at, _org, seq, digest = mine[0]
    assert fc.TS_RE.match(at) and at.endswith("Z") and len(at) == 20, at
    assert "%s %s" % (seq, digest) == head(org) and seq == "4", (mine, head(org))
    # every org with a chain head is in the file, once
    orgs = [line.split(" ")[1] for line in f.read_text().splitlines()]
    assert len(orgs) == len(set(orgs)) and len(orgs) >= int(psql("SELECT count(*) FROM audit.chain_heads"))


def test_anchored_chain_extended_by_more_events_passes(tmp_path):
    admin, org = busy_org(3)
    f = tmp_path / "anchors"
    anchor(f)
    more(admin, org, 2)
    anchor(f)
    more(admin, org, 2)  # sealed after the last anchor: the chain extends it
    p = verify(f, org)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    lines = org_lines(p, org)
    assert lines[0] == "org %s: ok, 7 events sealed" % org["id"], lines
    assert lines[1].startswith("org %s: extends its anchors (2 checked, up to event 5;" % org["id"]), lines
    assert "1 extend their anchors, 0 mismatch, 0 missing, 0 malformed line(s)" in p.stdout, p.stdout
    # every org anchored, all of them checked (other tests' tampered orgs may fail; ours does not)
    p = verify(f)
    assert p.returncode in (0, 1) and org_lines(p, org)[1].startswith("org %s: extends" % org["id"]), p.stdout


def test_rewritten_chain_passes_verify_chain_but_not_its_anchor(tmp_path):
    admin, org = busy_org(3, name="Rewritten")
    f = tmp_path / "anchors"
    anchor(f)  # line 1..: head at event 3
    more(admin, org, 3)
    anchor(f)  # head at event 6
    rewrite_chain(org, 5)
    plain = ctl("verify-audit", "--org", org["id"], "--database", SUPERUSER)
    assert plain.returncode == 0 and "org %s: ok, 6 events sealed" % org["id"] in plain.stdout, \
        ("the attack must beat verify_chain", plain.stdout, plain.stderr)
    p = verify(f, org)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    line = org_lines(p, org)[-1]
    assert line.startswith("org %s: ANCHOR MISMATCH: events 1 to 6 no longer give the hash anchored on " % org["id"]), line
    assert "events 1 to 3 still give the anchor of" in line, line
    assert "0 extend their anchors, 1 mismatch" in p.stdout, p.stdout
    # Anchoring the rewritten head does not launder it: the earlier lines still count.
    anchor(f)
    p = verify(f, org)
    assert p.returncode == 1 and "ANCHOR MISMATCH: events 1 to 6 no longer give" in org_lines(p, org)[-1], p.stdout


def test_rewrite_before_the_first_anchored_event_is_caught(tmp_path):
    admin, org = busy_org(5, name="Early")
    f = tmp_path / "anchors"
    anchor(f)
    rewrite_chain(org, 1)
    p = verify(f, org)
    assert p.returncode == 1, p.stdout
    line = org_lines(p, org)[-1]
    assert "ANCHOR MISMATCH: events 1 to 5 no longer give" in line and "still give" not in line, line


def test_deleted_org_is_missing(tmp_path):
    _admin, org = busy_org(3, name="Deleted")
    f = tmp_path / "anchors"
    anchor(f)
    psql("SET session_replication_role = replica; "
         "DELETE FROM audit.events WHERE org_id = $1; DELETE FROM audit.chain_heads WHERE org_id = $1", org["id"])
    plain = ctl("verify-audit", "--database", SUPERUSER)
    assert org["id"] not in plain.stdout + plain.stderr, "plain verify-audit knows nothing of it"
    p = verify(f)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    lines = org_lines(p, org)
    assert len(lines) == 1 and lines[0].startswith(
        "org %s: MISSING: anchored at event 3 on " % org["id"]), lines
    assert "no event and no chain head" in lines[0], lines
    p = verify(f, org)
    assert p.returncode == 1 and "1 missing" in p.stdout, p.stdout
    assert org_lines(p, org) == lines, (org_lines(p, org), lines)


def test_deleted_events_after_the_anchor_and_a_moved_head(tmp_path):
    admin, org = busy_org(3, name="Shortened")
    f = tmp_path / "anchors"
    more(admin, org, 2)
    anchor(f)  # head at 5
    # The superuser deletes events 4 and 5 and moves the head back: verify_chain is content.
    psql("SET session_replication_role = replica; "
         "DELETE FROM audit.events WHERE org_id = $1 AND seq > 3; "
         "UPDATE audit.chain_heads h SET seq = 3, hash = e.hash FROM audit.events e "
         "WHERE h.org_id = $1 AND e.org_id = $1 AND e.seq = 3", org["id"])
    plain = ctl("verify-audit", "--org", org["id"], "--database", SUPERUSER)
    assert plain.returncode == 0, plain.stdout
    p = verify(f, org)
    assert p.returncode == 1, p.stdout
    assert org_lines(p, org)[-1].startswith(
        "org %s: ANCHOR MISMATCH: the chain ends at event 3, but event 5 was anchored on " % org["id"]), p.stdout


def test_deleted_chain_head_is_reported(tmp_path):
    _admin, org = busy_org(3, name="Headless")
    f = tmp_path / "anchors"
    anchor(f)
    psql("DELETE FROM audit.chain_heads WHERE org_id = $1", org["id"])
    p = verify(f, org)
    assert p.returncode == 1, p.stdout
    assert org_lines(p, org)[-1].startswith(
        "org %s: ANCHOR MISMATCH: there is no chain head, behind event 3 anchored on " % org["id"]), p.stdout


def test_a_damaged_head_does_not_stop_the_others(tmp_path):
    _admin, damaged = busy_org(3, name="Damaged")
    _admin2, fine = busy_org(3, name="Fine")
    good = head(damaged).split(" ")[1]
    psql("UPDATE audit.chain_heads SET hash = '\\x00' WHERE org_id = $1", damaged["id"])
    try:
        f = tmp_path / "anchors"
        p = ctl("audit-anchor", "--file", str(f), "--database", AUDITOR)
        assert p.returncode == 1 and "cannot anchor org %s" % damaged["id"] in p.stderr, (p.returncode, p.stderr)
        text = f.read_text()
        assert damaged["id"] not in text and "%s %s" % (fine["id"], head(fine)) in text, text
    finally:
        psql("UPDATE audit.chain_heads SET hash = decode($2, 'hex') WHERE org_id = $1", damaged["id"], good)
    assert psql("SELECT ok FROM audit.verify_chain($1)", damaged["id"]) == "t"


def test_org_with_only_pending_events_is_anchored_at_seq_0(tmp_path):
    org = {"id": psql("SELECT gen_random_uuid()")}
    # Hold the lock a first seal of this org takes (audit.seal_org), so the sealers skip it.
    holder = subprocess.Popen(
        ["/usr/bin/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", fc.PGHOST, "-p", str(fc.PGPORT),
         "-d", fc.PGDATABASE, "-U", fc.PGUSER],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        holder.stdin.write("SELECT 'locked' FROM pg_advisory_lock(hashtextextended("
                           "'finicom audit.chain_heads ' || '%s', 0));\n" % org["id"])
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "locked"
        psql("SELECT audit.append($1, 'x.pending', NULL, NULL, '{}')", org["id"])
        f = tmp_path / "anchors"
        anchor(f)
        assert "%s 0 %s" % (org["id"], ZERO) in f.read_text(), f.read_text()
        p = verify(f, org)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert org_lines(p, org)[-1].startswith("org %s: extends its anchors (1 checked, up to event 0;" % org["id"])
        psql("SET session_replication_role = replica; DELETE FROM audit.events WHERE org_id = $1", org["id"])
        p = verify(f, org)
        assert p.returncode == 1 and org_lines(p, org)[-1].startswith(
            "org %s: MISSING: anchored at event 0 on " % org["id"]), p.stdout
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_malformed_anchor_lines_are_reported(tmp_path):
    _admin, org = busy_org(3, name="Malformed")
    good = tmp_path / "good"
    anchor(good)
    mine = [line for line in good.read_text().splitlines() if line.split(" ")[1] == org["id"]][0]
    t, o, seq, digest = mine.split(" ")
    bad = [
        "garbage",
        "x" * 100000,                                     # far beyond the line limit
        "%s %s %s %s" % (t, o, seq, digest.upper()),       # hash not lowercase
        "%s %s -1 %s" % (t, o, digest),
        "%s %s %s" % (t, o, seq),
        "%s\0%s %s %s" % (t, o, seq, digest),
        "",
    ]
    f = tmp_path / "anchors"
    f.write_bytes(("\n".join([mine] + bad) + "\n" + "%s %s %s" % (t, o, seq)).encode())  # last: no newline
    p = verify(f, org)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.returncode >= 0 and "AddressSanitizer" not in p.stderr, p.stderr
    out = p.stdout.splitlines()
    for n in range(2, 10):
        assert any(line.startswith("anchors %s line %d: malformed: " % (f, n)) for line in out), (n, p.stdout)
    assert "anchors %s line 3: malformed: line too long" % f in out, p.stdout
    assert "anchors %s line 9: malformed: the last line has no newline (cut short?)" % f in out, p.stdout
    # the good line was still checked
    assert org_lines(p, org)[-1].startswith("org %s: extends its anchors" % org["id"]), p.stdout
    assert "8 malformed line(s)" in p.stdout, p.stdout
    # Many: the first 20 named, the rest counted.
    many = tmp_path / "many"
    many.write_text("junk\n" * 50)
    p = verify(many, org)
    assert p.returncode == 1 and sum(" malformed: " in line for line in p.stdout.splitlines()) == 20, p.stdout
    assert "anchors %s: 30 more malformed line(s)" % many in p.stdout, p.stdout
    # No file, or a directory: a failure, not a pass.
    for path in (tmp_path / "absent", tmp_path):
        p = verify(path, org)
        assert p.returncode == 1 and "could not" in p.stderr, (path, p.returncode, p.stdout, p.stderr)


def test_anchor_file_is_created_0600_and_only_appended(tmp_path):
    f = tmp_path / "anchors"
    anchor(f, umask=0)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600, oct(f.stat().st_mode)
    first = f.read_bytes()
    assert first.endswith(b"\n") and first.count(b"\n") >= 1
    anchor(f, umask=0)
    second = f.read_bytes()
    assert second.startswith(first) and second.count(b"\n") == 2 * first.count(b"\n"), (first, second)
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    # A file cut short: the next run starts on a line of its own, the old bytes untouched.
    torn = tmp_path / "torn"
    torn.write_bytes(b"2025-03-01T10:00:00Z 6f0c")
    os.chmod(torn, 0o600)
    anchor(torn)
    data = torn.read_bytes()
    assert data.startswith(b"2025-03-01T10:00:00Z 6f0c\n") and data.count(b"\n") == 1 + first.count(b"\n"), data


def test_anchor_file_refusals(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep\n")
    os.chmod(target, 0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    p = ctl("audit-anchor", "--file", str(link), "--database", AUDITOR)
    assert p.returncode == 1 and "symbolic link" in p.stderr, (p.returncode, p.stderr)
    assert target.read_text() == "keep\n"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    p = ctl("audit-anchor", "--file", str(dangling), "--database", AUDITOR)
    assert p.returncode == 1 and "symbolic link" in p.stderr and not (tmp_path / "nowhere").exists(), p.stderr
    for mode in (0o666, 0o620, 0o602):
        shared = tmp_path / ("shared-%o" % mode)
        shared.write_text("keep\n")
        os.chmod(shared, mode)
        p = ctl("audit-anchor", "--file", str(shared), "--database", AUDITOR)
        assert p.returncode == 1 and "others than its owner may write it" in p.stderr, (mode, p.stderr)
        assert shared.read_text() == "keep\n"
    p = ctl("audit-anchor", "--file", str(tmp_path), "--database", AUDITOR)
    assert p.returncode == 1, p.stderr
    for args in ((), ("--file",), ("--file", ""), ("--file", str(tmp_path / "x"), "extra")):
        p = ctl("audit-anchor", *args)
        assert p.returncode == 2 and "usage" in p.stderr, (args, p.returncode, p.stderr)
    assert not (tmp_path / "x").exists()
    p = ctl("audit-anchor", "--file", str(tmp_path / "y"), "--database", "host=/nonexistent")
    assert p.returncode == 1 and "could not connect" in p.stderr, p.stderr


@pytest.mark.parametrize("args", [("--anchors",), ("--anchors", ""), ("--anchors", "f", "extra")])
def test_verify_anchors_usage(args):
    p = ctl("verify-audit", *args)
    assert p.returncode == 2 and "[--anchors FILE]" in p.stderr, (p.returncode, p.stderr)
