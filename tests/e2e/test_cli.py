"""The programs' command lines (issue 16): every program answers --help and
--version (exit 0, the version of configure.ac), a bad command line exits 2,
each has a manual page that renders without warnings, and finicomctl gen-key
can give the key to the service user (--owner, --group)."""
import os
import pathlib
import pwd
import grp
import re
import stat
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PROGRAMS = {"finicomd": "src/finicomd", "finicom-mailer": "src/finicom-mailer",
            "finicomctl": "src/finicomctl"}
MANS = ["man/finicomd.8", "man/finicom-mailer.8", "man/finicomctl.8", "man/finicom.conf.5"]


def exe(name):
    return os.path.join(os.environ["FINICOM_BUILD"], PROGRAMS[name])


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, **kw)


def version():
    m = re.search(r"^AC_INIT\(\[finicom\], \[([^]]+)\]", (REPO / "configure.ac").read_text(), re.M)
    return m.group(1)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_exits_0_on_stdout(name, flag):
    p = run(exe(name), flag)
    assert p.returncode == 0, p
    assert p.stdout.startswith("usage:") and p.stderr == "", p
    assert "--version" in p.stdout and "%s(8)" % name in p.stdout, p.stdout


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_configure_acs(name, flag):
    p = run(exe(name), flag)
    assert p.returncode == 0 and p.stdout == "%s %s\n" % (name, version()), p


@pytest.mark.parametrize("name,args", [("finicomd", ["--bogus"]), ("finicomd", ["extra"]),
                                       ("finicom-mailer", ["--bogus"]), ("finicomctl", []),
                                       ("finicomctl", ["bogus"])])
def test_bad_command_line_exits_2_with_usage(name, args):
    p = run(exe(name), *args)
    assert p.returncode == 2, p
    assert "usage" in p.stderr and p.stdout == "", p


def test_finicomctl_help_lists_every_command():
    out = run(exe("finicomctl"), "--help").stdout
    for cmd in ("check-config", "migrate", "create-user", "create-org", "set-plan", "verify-audit",
                "audit-anchor", "gen-key", "rotate-key", "normalize-emails", "disable-2fa"):
        assert "finicomctl %s" % cmd in out, cmd


@pytest.mark.parametrize("page", MANS)
def test_manual_page_renders_without_warnings(page):
    p = run("man", "--warnings", "-l", str(REPO / page), env=dict(os.environ, MANWIDTH="80"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "NAME" in p.stdout and len(p.stdout) > 500


@pytest.mark.parametrize("page", MANS[:3])
def test_manual_page_documents_help_and_version(page):
    text = (REPO / page).read_text()
    if page.endswith("finicomctl.8"):
        for cmd in ("gen-key", "rotate-key", "migrate", "create-user", "create-org", "disable-2fa"):
            assert "Cm %s" % cmd in text, cmd
    assert "-help" in text and "-version" in text


@pytest.fixture
def tmpdir_root():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        yield pathlib.Path(d)


def test_gen_key_owner_gives_the_key_to_the_service_user(tmpdir_root):
    key = tmpdir_root / "secret.key"
    p = run(exe("finicomctl"), "gen-key", "--owner", "nobody", "--group", "nogroup", str(key))
    assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{8}\n", p.stdout), p
    st = key.stat()
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    assert st.st_gid == grp.getgrnam("nogroup").gr_gid
    assert stat.S_IMODE(st.st_mode) == 0o600
    # The service user reads it; finicomd's own loader accepts it (check
    # through check-config is not enough: load it the way the daemon does).
    r = run("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", str(key))
    assert r.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", r.stdout), r


def test_gen_key_owner_alone_takes_the_users_group(tmpdir_root):
    key = tmpdir_root / "k"
    assert run(exe("finicomctl"), "gen-key", "--owner", "nobody", str(key)).returncode == 0
    assert key.stat().st_gid == pwd.getpwnam("nobody").pw_gid


@pytest.mark.parametrize("args,code", [(["--owner", "no-such-user-x"], 2), (["--group", "no-such-group-x"], 2),
                                       (["--bogus"], 2), ([], 2)])
def test_gen_key_bad_owner_makes_no_file(tmpdir_root, args, code):
    key = tmpdir_root / "k"
    p = run(exe("finicomctl"), "gen-key", *args, *([str(key)] if args else []))
    assert p.returncode == code, p
    assert not key.exists()


def test_gen_key_never_overwrites(tmpdir_root):
    key = tmpdir_root / "k"
    assert run(exe("finicomctl"), "gen-key", str(key)).returncode == 0
    before = key.read_text()
    p = run(exe("finicomctl"), "gen-key", str(key))
    assert p.returncode == 1 and "never overwritten" in p.stderr
    assert key.read_text() == before


def test_rotate_key_bad_options_exit_2():
    for args in (["--batch", "0"], ["--batch", "x"], ["--pause", "5"], ["--pause", "-1ms"], ["extra"]):
        p = run(exe("finicomctl"), "rotate-key", *args)
        assert p.returncode == 2, (args, p)
