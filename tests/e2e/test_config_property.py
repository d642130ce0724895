"""Property tests of object configs through the API (issue 12).

What docs/input-fidelity.md promises, checked on random configs rather than
on a list of cases:

- A config within the limits (nested up to 31 levels below the body's
  32, at most 16 KiB written compactly with every number in full, a body of
  at most 64 KiB) is stored and read back equal, by the create reply, by GET
  of the object and in the list: strings hold any Unicode (astral
  characters, right-to-left text, combining marks, controls, however the
  client escaped them), numbers read back as PostgreSQL's numeric prints
  them (the same value, no exponent, the scale kept: `1e3` is `1000`, `1.50`
  is `1.50`), and secret values and URL passwords read back as "********"
  by the rule of sql/0014_secret_names.sql, modelled here.  A config one
  byte over 16 KiB is `400 validation_failed` naming `config`.
- A PATCH with a new config reads back the same way; a PATCH that sends
  back what was read keeps every stored byte (secrets included).
- Invalid input (nested too deep, a body over 64 KiB, \\u0000, lone
  surrogates, duplicate keys at any depth, numbers numeric cannot hold,
  a config that is not an object, invalid UTF-8, truncated or malformed
  JSON) is a 4xx in the API's error shape, never a 5xx, and changes
  nothing: the org's list, the object and the audit trail stay as they were.

Hypothesis runs derandomized (the same examples on every run, no example
database) with a bounded number of examples; a failure prints the example
that fails and the body it sent.
"""
import decimal
import json
import os
import random
import sys
import uuid

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import assert_error, create_org, psql, signup  # noqa: E402

RESOURCES = ("sources", "integrations", "destinations")
CONFIG_MAX = 16 * 1024   # the config, compact, numbers in full (json_measure)
STORED_MAX = 32 * 1024   # the table's CHECK on config::text, secrets encrypted
BODY_MAX = 64 * 1024     # nginx's client_max_body_size and finicomd's limit
CONFIG_DEPTH = 31        # the body may be 32 deep; the config object is its level 2
MASK = "********"
SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
                "privatekey", "credential")
JSON_HEADERS = {"Content-Type": "application/json"}

# Hypothesis keeps a cache (its Unicode tables) in its home directory: the
# checkout's var/, which git ignores, rather than .hypothesis/ here.
set_hypothesis_home_dir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "var", "hypothesis"))

# Shrinking a failure through HTTP can take minutes: FINICOM_PROPERTY_SHRINK=1
# turns it on to find a smaller example; without it a failure shows the
# first example that fails, and the body it sent.
PROPERTY = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                    phases=[Phase.explicit, Phase.generate] +
                    ([Phase.shrink] if os.environ.get("FINICOM_PROPERTY_SHRINK") else []),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --------------------------------------------------------------------------
# the model: JSON values as sent, and what the reads must return


class Num:
    """A number as the client writes it (its text)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "Num(%s)" % self.text


class Obj:
    """An object as its members in order (an invalid one may repeat a key)."""
    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __repr__(self):
        return "Obj(%r)" % (self.pairs,)


class Raw:
    """Bytes that go into the body as they are, in place of a value (invalid input)."""
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __repr__(self):
        return "Raw(%r)" % (self.data,)


class Read:
    """A number in a reply, compared by its text."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Read) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return "Read(%s)" % self.text


def numeric_text(text):
    """How PostgreSQL's numeric (jsonb) prints the number text: in full, no
    exponent, as many decimals as the text had minus its exponent, no sign
    on zero."""
    d = decimal.Decimal(text)
    s = format(d, "f")
    return s.lstrip("-") if d.is_zero() else s


def secret_name(key):
    """The secret-name rule: '_' and '-' dropped, ASCII letters lowercased."""
    folded = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in key if c not in "_-")
    return any(word in folded for word in SECRET_WORDS)


def url_password(s):
    """(start, length) of the password of a URL value, or None (the URL rule)."""
    if not s or not ("A" <= s[0] <= "Z" or "a" <= s[0] <= "z"):
        return None
    i = 1
    while i < len(s) and (s[i].isascii() and (s[i].isalnum() or s[i] in "+.-")):
        i += 1
    if s[i:i + 3] != "://":
        return None
    auth = i + 3
    end = min([j for j in (s.find(c, auth) for c in "/?#") if j >= 0] or [len(s)])
    at = s.rfind("@", auth, end)
    if at < 0:
        return None
    colon = s.find(":", auth, at)
    if colon < 0 or colon + 1 == at:
        return None
    return colon + 1, at - colon - 1


def url_masked(s):
    p = url_password(s)
    return s if p is None else s[:p[0]] + MASK + s[p[0] + p[1]:]


def expected(v):
    """What the reads return for a value sent at a place that is not secret."""
    if isinstance(v, Obj):
        return {k: ((None if x is None else MASK) if secret_name(k) else expected(x)) for k, x in v.pairs}
    if isinstance(v, list):
        return [expected(x) for x in v]
    if isinstance(v, str):
        return url_masked(v)
    if isinstance(v, Num):
        return Read(numeric_text(v.text))
    return v


def from_reply(v):
    """A parsed reply value back as a value to send (numbers as read)."""
    if isinstance(v, dict):
        return Obj((k, from_reply(x)) for k, x in v.items())
    if isinstance(v, list):
        return [from_reply(x) for x in v]
    if isinstance(v, Read):
        return Num(v.text)
    return v


def depth_of(v):
    if isinstance(v, Obj):
        return 1 + max([depth_of(x) for _, x in v.pairs] or [0])
    if isinstance(v, list):
        return 1 + max([depth_of(x) for x in v] or [0])
    return 0


def string_size(s):
    """Bytes of a string as json-c (and jsonb) write it: \\", \\\\, \\b \\f \\n \\r \\t,
    other controls as \\u00XX, everything else as UTF-8."""
    n = 2
    for c in s:
        if c in '"\\\b\f\n\r\t':
            n += 2
        elif c < " ":
            n += 6
        else:
            n += len(c.encode("utf-8"))
    return n


def full_size(v, numbers=numeric_text):
    """The config's size as the limit counts it: compact, numbers in full."""
    if isinstance(v, Obj):
        return 2 + sum(string_size(k) + 1 + full_size(x, numbers) for k, x in v.pairs) + max(len(v.pairs) - 1, 0)
    if isinstance(v, list):
        return 2 + sum(full_size(x, numbers) for x in v) + max(len(v) - 1, 0)
    if isinstance(v, str):
        return string_size(v)
    if isinstance(v, Num):
        return len(numbers(v.text))
    return {True: 4, False: 5, None: 4}[v]


def separators(v):
    """':' and ',' in the compact text (jsonb's text puts a space after each)."""
    if isinstance(v, Obj):
        return 2 * len(v.pairs) - (1 if v.pairs else 0) + sum(separators(x) for _, x in v.pairs)
    if isinstance(v, list):
        return max(len(v) - 1, 0) + sum(separators(x) for x in v)
    return 0


def sealed(n):
    """Length of the stored form of n plaintext bytes: enc:v1:<id>:<base64url(12 + n + 16)>."""
    return len("enc:v1:12345678:") + (4 * (12 + n + 16) + 2) // 3


def stored_size_bound(v):
    """An upper bound of octet_length(config::text) once secrets are encrypted."""
    size = full_size(v) + separators(v)

    def grow(x):
        nonlocal size
        if isinstance(x, Obj):
            for k, y in x.pairs:
                if secret_name(k) and y is not None:
                    plain = full_size(y, numbers=lambda t: max(t, numeric_text(t), key=len))
                    size += sealed(plain) + 2 - full_size(y)
                elif not secret_name(k):
                    grow(y)
        elif isinstance(x, list):
            for y in x:
                grow(y)
        elif isinstance(x, str) and url_password(x) is not None:
            start, n = url_password(x)
            p = len(x[start:start + n].encode("utf-8"))
            size += sealed(p) - p
    grow(v)
    return size


def uses_the_mask(v):
    """Does the value send "********" where it means "the stored secret"?
    (On create that is a 400: nothing is stored there.)"""
    if isinstance(v, Obj):
        return any((x == MASK) if secret_name(k) else uses_the_mask(x) for k, x in v.pairs)
    if isinstance(v, list):
        return any(uses_the_mask(x) for x in v)
    if isinstance(v, str):
        p = url_password(v)
        return p is not None and v[p[0]:p[0] + p[1]] == MASK
    return False


def check_sealed(stored, sent):
    """Every secret the model sees in sent is encrypted in stored (the jsonb
    read from the table), and nothing else changed."""
    if isinstance(sent, Obj):
        assert isinstance(stored, dict) and set(stored) == {k for k, _ in sent.pairs}, (stored, sent)
        for k, x in sent.pairs:
            if secret_name(k) and x is not None:
                assert isinstance(stored[k], str) and stored[k].startswith("enc:v1:"), (k, stored[k])
            elif secret_name(k):
                assert stored[k] is None
            else:
                check_sealed(stored[k], x)
    elif isinstance(sent, list):
        assert isinstance(stored, list) and len(stored) == len(sent)
        for y, x in zip(stored, sent):
            check_sealed(y, x)
    elif isinstance(sent, str) and url_password(sent) is not None:
        start, n = url_password(sent)
        assert stored.startswith(sent[:start] + "enc:v1:") and stored.endswith(sent[start + n:]), (stored, sent)
        assert url_masked(stored) == url_masked(sent)
    else:
        assert expected(sent) == stored, (stored, sent)


# --------------------------------------------------------------------------
# writing JSON text the way clients may: any escapes, any whitespace


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
WHITESPACE = " \t\n\r"


class Writer:
    """Writes values as JSON text, escaping characters and adding whitespace
    at random (rnd is Hypothesis's, so the choices are part of the example)."""

    def __init__(self, rnd, escape=0.0, space=0.0):
        self.rnd, self.escape, self.space = rnd, escape, space

    def ws(self):
        if self.space and self.rnd.random() < self.space:
            return "".join(self.rnd.choice(WHITESPACE) for _ in range(self.rnd.randint(1, 3))).encode()
        return b""

    def u(self, code):
        hexa = "%04x" % code
        return "\\u" + (hexa.upper() if self.rnd.random() < 0.5 else hexa)

    def string(self, s):
        out = ['"']
        for c in s:
            code = ord(c)
            if c in SHORT_ESCAPES or code < 0x20:
                short = SHORT_ESCAPES.get(c)
                out.append(short if short and self.rnd.random() >= self.escape else self.u(code))
            elif self.escape and self.rnd.random() < self.escape:
                if c == "/" and self.rnd.random() < 0.5:
                    out.append("\\/")
                elif code > 0xFFFF:
                    code -= 0x10000
                    out.append(self.u(0xD800 + (code >> 10)) + self.u(0xDC00 + (code & 0x3FF)))
                else:
                    out.append(self.u(code))
            else:
                out.append(c)
        out.append('"')
        return "".join(out).encode("utf-8")

    def value(self, v):
        ws = self.ws
        if isinstance(v, Raw):
            return v.data
        if isinstance(v, Obj):
            members = [ws() + (k.data if isinstance(k, Raw) else self.string(k)) + ws() + b":" + ws() +
                       self.value(x) + ws() for k, x in v.pairs]
            return b"{" + (b",".join(members) if members else ws()) + b"}"
        if isinstance(v, list):
            items = [ws() + self.value(x) + ws() for x in v]
            return b"[" + (b",".join(items) if items else ws()) + b"]"
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, Num):
            return v.text.encode()
        return {True: b"true", False: b"false", None: b"null"}[v]

    def body(self, fields):
        """A request body: an object of fields (config among them), no whitespace at its ends."""
        return self.value(Obj(fields))


# --------------------------------------------------------------------------
# strategies


SPECIAL = ("\x01\x08\t\n\x0b\x0c\r\x1b\x1f\x7f\x80\x9f \"\\/'`~{}[]:,@#?%"
           "é\u0301\u0338\u05d0\u05e9\u0627\u0644\u202e\u202d\u200f\u200d\u200b\ufeff\u2028\u2029"
           "\ufffd\ufffe\uffff\u4e00\U0001F600\U0001F469\U0001F4BB\U0010FFFF\U0001D11E\U000E0041"
           # astral characters whose low 16 bits look like a surrogate
           "\U0001D800\U0001DA8B\U0001DF00\U0002D200\U0002DFFF\U0010DFFF")
characters = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                       st.sampled_from(SPECIAL))
texts = st.text(characters, max_size=20)

url_bits = st.text(st.sampled_from("abcXYZ019-._~%!$&'()*+,;=:@ éü\U0001F600"), max_size=8)
urls = st.builds(
    lambda *parts: "%s://%s%s%s%s%s%s" % parts,  # scheme, user, ':', password, '@', host, the rest
    st.sampled_from(["postgres", "s3", "https", "git+ssh", "x.y-z", "A1", "1bad", "é", "mysql"]),
    url_bits, st.sampled_from([":", ":", ""]), url_bits, st.sampled_from(["@", "@", "", "@x@"]),
    st.sampled_from(["db.example", "[::1]", "h:5432", "", "é.test"]),
    st.sampled_from(["", "/db", "?sslmode=require", "#frag", "/a@b:c", "/p?q=a:b@c"]))


def spell_secret(parts):
    """A key spelled around a secret word (or a near miss) with case, '_' and '-' at random."""
    prefix, word, suffix, style, seps = parts
    letters = []
    for i, c in enumerate(word):
        if i and seps and seps[i % len(seps)]:
            letters.append(seps[i % len(seps)])
        letters.append(c.upper() if style[i % len(style)] else c)
    return prefix + "".join(letters) + suffix


secret_keys = st.tuples(
    st.sampled_from(["", "db_", "aws-", "x", "My", "é", "__"]),
    st.sampled_from(SECRET_WORDS + ("pass", "pwd", "secrets", "tok", "apikey", "api_key", "access", "privat",
                                    "credentials", "pass.word", "pass word")),
    st.sampled_from(["", "_id", "2", "-file", "s", "Ü"]),
    st.lists(st.booleans(), min_size=1, max_size=4),
    st.lists(st.sampled_from(["", "", "_", "-"]), max_size=4),
).map(spell_secret)
keys = st.one_of(texts, texts, secret_keys)

EDGE_NUMBERS = [
    "0", "-0", "0.0", "-0.0", "-0e0", "0e-5", "-0.000E+2", "0E+999999999", "0e1073741822",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "-18446744073709551617", "9007199254740993",
    "1.7976931348623157e308", "4.9e-324", "1e400", "-1e-400", "1E+2", "1.0e2", "100e-2", "0.1", "1.50",
    "123456789012345678901234567890.123456789012345678901234567890", "1e-0000000000000000003",
]


def compose_number(parts):
    neg, whole, frac, exp = parts
    text = ("-" if neg else "") + whole + ("." + frac if frac is not None else "")
    if exp is not None:
        letter, sign, zeros, value = exp
        text += letter + sign + "0" * zeros + str(value)
    return text


numbers = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.integers(-10 ** 45, 10 ** 45).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.tuples(st.booleans(),
              st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,60}", fullmatch=True)),
              st.one_of(st.none(), st.from_regex(r"[0-9]{1,60}", fullmatch=True)),
              st.one_of(st.none(), st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]),
                                             st.integers(0, 3), st.integers(0, 400)))).map(compose_number),
).map(Num)

scalars = st.one_of(texts, urls, numbers, st.booleans(), st.none())


@st.composite
def json_values(draw, depth, nodes=30):
    """A value exactly `depth` levels deep (0: a scalar), with siblings of
    any smaller depth, at most about `nodes` values in all."""
    left = [nodes]

    def value(levels, exact):
        left[0] -= 1
        if levels == 0:
            return draw(scalars)
        if not exact and (left[0] <= 0 or draw(st.integers(0, 2)) == 0):
            return draw(scalars) if draw(st.integers(0, 3)) else draw(st.sampled_from([[], Obj([])]))
        siblings = draw(st.integers(0, 3)) if left[0] > 0 else 0
        deep_at = draw(st.integers(0, siblings)) if exact else -1
        sub = draw(st.integers(0, levels - 1)) if not exact else None
        shallow = min(levels - 1, sub if sub is not None else 2)
        items = [value(levels - 1, True) if i == deep_at else value(shallow, False)
                 for i in range(siblings + (1 if exact else 0))]
        if draw(st.booleans()):
            return items
        names = draw(st.lists(keys, min_size=len(items), max_size=len(items), unique=True))
        return Obj(zip(names, items))

    return value(depth, True)


@st.composite
def configs(draw, depth=None, nodes=30):
    """A config object exactly `depth` levels deep (the object itself is level 1)."""
    if depth is None:
        depth = draw(st.sampled_from([1, 2, 3, 4, 6, 10, 30, CONFIG_DEPTH]))
    pairs, names = [], set()
    if depth > 1:
        pairs.append((draw(keys), draw(json_values(depth - 1, nodes))))
    for _ in range(draw(st.integers(0, 4))):
        member = (draw(keys), draw(json_values(draw(st.integers(0, min(depth - 1, 2))), 6)))
        pairs.append(member)
    pairs = [(k, v) for k, v in pairs if k not in names and not names.add(k)]
    config = Obj(pairs)
    assert depth_of(config) == depth
    return config


@st.composite
def writers(draw):
    return Writer(draw(st.randoms(use_true_random=False)), escape=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0])),
                  space=draw(st.sampled_from([0.0, 0.0, 0.2, 0.8])))


# --------------------------------------------------------------------------
# the API


def path(org, suffix=""):
    return "/api/v1/orgs/%s%s" % (org["id"], suffix)


def parse(data):
    """A reply parsed exactly: numbers as their text, no repeated key."""
    def pairs(members):
        obj = dict(members)
        assert len(obj) == len(members), members
        return obj

    def constant(name):
        raise AssertionError("%s in a reply" % name)

    return json.loads(data.decode("utf-8"), parse_int=Read, parse_float=Read, parse_constant=constant,
                      object_pairs_hook=pairs)


def send(who, method, url, body):
    note("%s %s body (%d bytes): %r" % (method, url, len(body), body[:2000]))
    r = who.request(method, url, data=body, headers=JSON_HEADERS)
    assert r.status_code < 500, (r.status_code, r.text[:500])
    return r


def listed(who, org, kind):
    """The org's objects of kind: {id: item}, every page."""
    items, cursor = {}, None
    while True:
        r = who.get(path(org, "/" + kind), params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, (r.status_code, r.text[:300])
        page = parse(r.content)
        items.update((it["id"], it) for it in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def audit_ids(who, org):
    r = who.get(path(org, "/audit-events"), params={"limit": 200})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return [e["id"] for e in parse(r.content)["items"]]


def snapshot(who, org):
    """What the API shows a refused request must leave as it was: the org's
    objects of each kind as listed (configs, updated_at), its audit events."""
    return {"lists": {kind: listed(who, org, kind) for kind in RESOURCES}, "audit": audit_ids(who, org)}


def stored_rows(org):
    """The org's rows in the database: objects and audit events counted, and
    every stored config (secrets encrypted) with its updated_at, digested."""
    return psql("SELECT (SELECT count(*) FROM audit.events WHERE org_id = $1) || ' ' || count(*) || ' '"
                " || md5(coalesce(string_agg(t, ',' ORDER BY t), '')) FROM ("
                " SELECT 's' || id || updated_at || config::text AS t FROM finicom.sources WHERE org_id = $1"
                " UNION ALL SELECT 'i' || id || updated_at || config::text FROM finicom.integrations WHERE org_id = $1"
                " UNION ALL SELECT 'd' || id || updated_at || config::text FROM finicom.destinations"
                " WHERE org_id = $1) x", org["id"])


def read_back(who, org, kind, obj_id):
    """The object by GET and as found in the list."""
    r = who.get(path(org, "/%s/%s" % (kind, obj_id)))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    one = parse(r.content)
    items = listed(who, org, kind)
    assert obj_id in items, "object %s is not in the list" % obj_id
    return one, items[obj_id]


def create_fields(config, name="p"):
    return [("name", name), ("type", "postgres"), ("config", config)]


@pytest.fixture(scope="module")
def team():
    admin = signup(name="Property Admin")
    org = create_org(admin, "Property " + uuid.uuid4().hex[:8])
    return admin, org


@pytest.fixture(scope="module")
def quiet_team():
    """An org where only refused requests are sent (after its set-up)."""
    admin = signup(name="Property Refusals")
    org = create_org(admin, "Refusals " + uuid.uuid4().hex[:8])
    objects = {}
    for kind in RESOURCES:
        r = admin.post(path(org, "/" + kind), {"name": "kept", "type": "postgres",
                                               "config": {"password": "hunter2", "n": 1, "url": "pg://u:p@h/db"}})
        assert r.status_code == 201, (r.status_code, r.text[:300])
        objects[kind] = r.json()["id"]
    return admin, org, objects


kinds = st.sampled_from(RESOURCES + ("sources", "sources"))


# --------------------------------------------------------------------------
# 1. valid configs read back equal


def check_created(admin, org, kind, config, r):
    """The object r created reads back as the model says, by every read."""
    want = expected(config)
    assert r.status_code == 201, (r.status_code, r.text[:500])
    created = parse(r.content)
    assert created["config"] == want
    one, item = read_back(admin, org, kind, created["id"])
    assert one["config"] == want
    assert item["config"] == want
    return created["id"]


@settings(PROPERTY, max_examples=50)
@given(config=configs(), kind=kinds, writer=writers())
@example(config=Obj([("deep", Obj([("\U0001D800" * 2, [[Obj([("k", "\U0002D200 \u05d0\u0301 \U0010DFFF")])]])]))]),
         kind="sources", writer=Writer(random.Random(0), escape=1.0))
def test_valid_configs_read_back_equal(team, config, kind, writer):
    admin, org = team
    assume(full_size(config) <= CONFIG_MAX and not uses_the_mask(config))
    assume(stored_size_bound(config) <= STORED_MAX)
    assert depth_of(config) <= CONFIG_DEPTH
    body = writer.body(create_fields(config))
    assume(len(body) <= BODY_MAX)
    r = send(admin, "POST", path(org, "/" + kind), body)
    obj_id = check_created(admin, org, kind, config, r)
    assert admin.delete(path(org, "/%s/%s" % (kind, obj_id))).status_code == 204


def padding(how, n):
    """A value (how: ascii, multibyte, escaped, number) whose size in the
    config is n bytes exactly, or None when n is too small for it."""
    if how == "number":
        # numbers count as numeric prints them: 1e5 is 100000, 1e-3 is 0.001
        forms = ["1e%d" % (n - 1), "-1e%d" % (n - 2), "12345e%d" % (n - 5), "-1.5e%d" % (n - 2),
                 "1e-%d" % (n - 2), "0e-%d" % (n - 2), "-0.0e-%d" % (n - 3)]
        forms = [f for f in forms if n >= 6 and (n - 2 <= 16383 or "e-" not in f)]
        value = Num(forms[n % len(forms)]) if forms else None
    elif n < 2:
        value = None
    elif how == "ascii":
        value = "x" * (n - 2)
    elif how == "escaped":  # \u0001 is 6 bytes, \n 2, in json-c's text and in jsonb's
        k = n - 2
        value = "\x01" * (k // 6) + "\n" * (k % 6 // 2) + "y" * (k % 2)
    else:  # 4-, 3- and 2-byte characters, ASCII for what is left
        k = n - 2
        value = "\U0001F600\u4e00\u00e9" * (k // 9) + "\u00e9" * (k % 9 // 2) + "z" * (k % 9 % 2)
    assert value is None or full_size(value) == n, (how, n, full_size(value))
    return value


def padded_config(config, nest, how, target):
    """config with a member `nest` objects deep (each level's key 600 bytes
    and more) whose value or key makes the config target bytes exactly;
    None when it cannot."""
    levels = ["level%d/~" % i + "w" * 600 for i in range(nest)]

    def build(key, value):
        for name in reversed(levels):
            value, key = Obj([(key, value)]), name
        return Obj(config.pairs + [(key, value)])

    if how == "key":  # the key takes the room: {"pad...":0}
        extra = target - full_size(build("pad", Num("0")))
        return build("pad" + "k" * extra, Num("0")) if extra >= 0 else None
    value = padding(how, target - full_size(build("pad", "")) + 2)
    return build("pad", value) if value is not None else None


@settings(PROPERTY, max_examples=20)
@example(config=Obj([]), kind="sources", writer=Writer(random.Random(1)), target=CONFIG_MAX, how="key", nest=0,
         body_room=None)
@example(config=Obj([]), kind="integrations", writer=Writer(random.Random(2)), target=CONFIG_MAX, how="multibyte",
         nest=5, body_room=0)
@example(config=Obj([]), kind="destinations", writer=Writer(random.Random(3)), target=CONFIG_MAX, how="number",
         nest=1, body_room=None)
@example(config=Obj([]), kind="sources", writer=Writer(random.Random(4)), target=CONFIG_MAX + 1, how="escaped",
         nest=0, body_room=1)
@given(config=configs(nodes=12), kind=kinds, writer=writers(),
       target=st.one_of(st.just(CONFIG_MAX), st.just(CONFIG_MAX + 1), st.integers(CONFIG_MAX - 200, CONFIG_MAX + 40)),
       how=st.sampled_from(["ascii", "multibyte", "escaped", "number", "key"]),
       nest=st.sampled_from([0, 0, 1, 5]), body_room=st.one_of(st.none(), st.integers(-40, 40)))
def test_configs_at_the_size_limits(team, config, kind, writer, target, how, nest, body_room):
    """A config of at most 16 KiB (numbers in full) in a body of at most
    64 KiB is accepted and read back equal, with its long keys and deep
    paths; a byte more of either is refused and stores nothing."""
    admin, org = team
    assume(not uses_the_mask(config))
    padded = padded_config(config, nest, how, target)
    assume(padded is not None and stored_size_bound(padded) <= STORED_MAX)
    assert full_size(padded) == target
    body = writer.body(create_fields(padded))
    if body_room is not None:
        # whitespace before the body's closing brace: 64 KiB give or take
        room = BODY_MAX + body_room - len(body)
        assume(room >= 0)
        body = body[:-1] + bytes(writer.rnd.choice(b" \t\n\r") for _ in range(room)) + b"}"
    refused = len(body) > BODY_MAX or target > CONFIG_MAX
    before = snapshot(admin, org) if refused else None
    r = send(admin, "POST", path(org, "/" + kind), body)
    if len(body) > BODY_MAX:
        assert_error(r, 413, "payload_too_large")
    elif target > CONFIG_MAX:
        assert_error(r, 400, "validation_failed", "config")
    else:
        obj_id = check_created(admin, org, kind, padded, r)
        assert admin.delete(path(org, "/%s/%s" % (kind, obj_id))).status_code == 204
    if refused:
        assert snapshot(admin, org) == before


# --------------------------------------------------------------------------
# 2. PATCH: a new config reads back equal; what was read, sent back, keeps every byte


def stored_config(kind, obj_id):
    """The stored config's text, exactly (as hex: psql's display drops
    characters such as U+10FFFF from what it prints)."""
    return bytes.fromhex(psql("SELECT encode(convert_to(config::text, 'UTF8'), 'hex') FROM finicom.%s"
                              " WHERE id = $1" % kind, obj_id)).decode("utf-8")


@settings(PROPERTY, max_examples=15)
@given(first=configs(nodes=15), second=configs(nodes=20), kind=kinds, writer=writers())
def test_patch_reads_back_and_keeps_what_it_is_sent_back(team, first, second, kind, writer):
    admin, org = team
    for config in (first, second):
        assume(full_size(config) <= CONFIG_MAX and not uses_the_mask(config))
        assume(stored_size_bound(config) <= STORED_MAX)
    r = send(admin, "POST", path(org, "/" + kind), writer.body(create_fields(first)))
    obj_id = check_created(admin, org, kind, first, r)
    url = path(org, "/%s/%s" % (kind, obj_id))

    r = send(admin, "PATCH", url, writer.body([("config", second)]))
    assert r.status_code == 200, (r.status_code, r.text[:500])
    want = expected(second)
    assert parse(r.content)["config"] == want
    one, item = read_back(admin, org, kind, obj_id)
    assert one["config"] == want and item["config"] == want
    stored = stored_config(kind, obj_id)
    check_sealed(json.loads(stored, parse_int=Read, parse_float=Read), second)

    # What the reads return, sent back as it is, keeps the stored config byte for byte.
    r = send(admin, "PATCH", url, writer.body([("config", from_reply(one["config"]))]))
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert parse(r.content)["config"] == want
    assert stored_config(kind, obj_id) == stored
    assert admin.delete(url).status_code == 204


# --------------------------------------------------------------------------
# 3. invalid input: 4xx in the error shape, nothing changes


def strings_of(v):
    """How many strings (keys and values) v has."""
    if isinstance(v, Obj):
        return sum(1 + strings_of(x) for _, x in v.pairs)
    if isinstance(v, list):
        return sum(strings_of(x) for x in v)
    return 1 if isinstance(v, str) else 0


def replace_string(v, n, make):
    """v with its n-th string (keys and values, in order) replaced by
    make(writer-ready string) -> Raw."""
    count = [n]

    def walk(x):
        if isinstance(x, Obj):
            pairs = []
            for k, y in x.pairs:
                count[0] -= 1
                key = make(k) if count[0] == -1 else k
                pairs.append((key, walk(y)))
            return Obj(pairs)
        if isinstance(x, list):
            return [walk(y) for y in x]
        if isinstance(x, str):
            count[0] -= 1
            return make(x) if count[0] == -1 else x
        return x
    return walk(v)


def objects_of(v, out=None):
    out = [] if out is None else out
    if isinstance(v, Obj):
        out.append(v)
        for _, x in v.pairs:
            objects_of(x, out)
    elif isinstance(v, list):
        for x in v:
            objects_of(x, out)
    return out


def replace_value(v, n, new):
    """v with its n-th member value or element (in order, any depth) replaced by new."""
    count = [n]

    def walk(x):
        if isinstance(x, Obj):
            return Obj((k, pick(y)) for k, y in x.pairs)
        if isinstance(x, list):
            return [pick(y) for y in x]
        return x

    def pick(y):
        count[0] -= 1
        return new if count[0] == -1 else walk(y)
    return walk(v)


def values_of(v):
    if isinstance(v, Obj):
        return sum(1 + values_of(x) for _, x in v.pairs)
    if isinstance(v, list):
        return sum(1 + values_of(x) for x in v)
    return 0


BAD_UTF8 = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
            b"\xed\xbf\xbf", b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
            b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3\x28",
            b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc"]
# Escapes that are not a character, whatever follows them.
LONE_SURROGATES = [b"\\ud800", b"\\uDBFF", b"\\udc00", b"\\uDFFF", b"\\ud83d\\u0041", b"\\ud83dx",
                   b"\\ud800\\ud800", b"\\udc00\\ud800", b"\\ud83d\\n", b"\\uDE00\\uD83D"]
NULS = [b"\\u0000", b"\\u0000\\u0000", b"\\u0000a", b"a\\u0000"]
CONTROLS = [bytes([c]) for c in (0, 1, 9, 10, 13, 27, 31)]  # raw, unescaped
BAD_NUMBERS = st.one_of(
    # more than 131072 digits before the point once the exponent is applied
    st.tuples(st.from_regex(r"-?[1-9][0-9]{0,20}(\.[0-9]{1,5})?", fullmatch=True), st.integers(131073, 10 ** 12))
    .map(lambda t: "%se%d" % (t[0], t[1] - len(t[0].lstrip("-").split(".")[0]))),
    # more than 16383 after it
    st.tuples(st.from_regex(r"-?[0-9](\.[0-9]{1,20})?", fullmatch=True), st.integers(16384, 10 ** 12))
    .map(lambda t: "%se-%d" % (t[0], t[1] - len(t[0].partition(".")[2]))),
    # an exponent PostgreSQL's numeric refuses even for zero
    st.tuples(st.sampled_from(["0", "-0", "0.0", "0.000"]), st.sampled_from(["e", "E", "e+"]),
              st.integers(1073741823, 10 ** 15)).map(lambda t: "%s%s%d" % t),
    st.sampled_from(["1e999999999999999999999", "-1.5e99999999999999999999", "0e-16384", "1e-1073741824"]),
)
BAD_SYNTAX = ["NaN", "Infinity", "-Infinity", "01", "-01", "+1", ".5", "1.", "1e", "1e+", "-", "--1", "0x10",
              "1_000", "tru", "nul", "True", "None", "'s'", "[1,]", "[,1]", "{,}", '{"a":1,}', '{"a"}',
              '{"a" 1}', "{1:2}", '"\\x"', '"\\u12g4"', '"\\U0041"', '"\\u00e"', "[1 2]", "\xa0 1", "\x0c1",
              "/*c*/1", "1//c", "[", "{", "]", "}", '"', '"\\"', "undefined", '["a" "b"]', "1 2", "\ufeff1"]
TRAILING = [b"x", b" {}", b",", b"}", b"\x00", b" 1", b'\n""', b"\xef\xbb\xbf", b"\xc3"]
INVALID = ["depth", "body_size", "config_size", "nul", "surrogate", "duplicate", "number", "not_object", "utf8",
           "control", "truncated", "syntax", "trailing"]


def insert_into_string(writer, s, i, bad):
    """The string s as the writer writes it, with the bytes bad between its
    characters i-1 and i (never inside an escape or a UTF-8 sequence)."""
    i = min(i, len(s))
    return Raw(writer.string(s[:i])[:-1] + bad + writer.string(s[i:])[1:])


@st.composite
def invalid_bodies(draw, what, patch=False):
    """(body, status, code, field): a body the API must refuse, made from a
    valid config by one mutation (what, one of INVALID)."""
    writer = draw(writers())
    config = draw(configs(depth=draw(st.sampled_from([1, 2, 3, 5])), nodes=12))
    config.pairs.append(("k" + draw(texts), draw(st.one_of(texts, urls))))  # at least one string
    config = Obj(dict(config.pairs).items())
    assume(full_size(config) < CONFIG_MAX // 2 and not uses_the_mask(config))
    fields = (lambda c: [("config", c)]) if patch else create_fields
    status, code, field = 400, "invalid_json", None
    if what == "depth":
        deep = draw(st.integers(CONFIG_DEPTH + 1, CONFIG_DEPTH + 40))
        config = Obj(config.pairs + [("deep\u00e9", draw(json_values(deep - 1, 8)))])
        assert depth_of(config) == deep
    elif what == "body_size":
        body = writer.body(fields(config))
        room = BODY_MAX + draw(st.integers(1, 3000)) - len(body)
        if draw(st.booleans()):  # whitespace
            body = body[:-1] + b" " * room + b"}"
        else:  # escapes that decode into a sixth of their bytes
            body = body[:-1] + b',"z":"' + b"\\u0041" * (room // 6 + 2) + b'"}'
        assert len(body) > BODY_MAX
        return body, 413, "payload_too_large", None
    elif what == "config_size":
        room = CONFIG_MAX - full_size(config) + draw(st.integers(1, 2000))
        big = draw(st.sampled_from(["x" * room, Num("1e%d" % room), Num("-1e-%d" % min(room, 16383))]))
        config = Obj(config.pairs + [("\U0001F600big", big)])
        assert full_size(config) > CONFIG_MAX
        status, code, field = 400, "validation_failed", "config"
    elif what in ("nul", "surrogate", "utf8", "control"):
        bad = draw(st.sampled_from({"nul": NULS, "surrogate": LONE_SURROGATES, "utf8": BAD_UTF8,
                                    "control": CONTROLS}[what]))
        n, i = draw(st.integers(0, strings_of(config) - 1)), draw(st.integers(0, 30))
        config = replace_string(config, n, lambda s: insert_into_string(writer, s, i, bad))
    elif what == "duplicate":
        objects = [o for o in objects_of(config) if o.pairs]
        obj = draw(st.sampled_from(objects))
        key = obj.pairs[draw(st.integers(0, len(obj.pairs) - 1))][0]
        if draw(st.booleans()):  # the same key, every character a \u escape
            key = Raw(Writer(writer.rnd, escape=1.0).string(key))
        twin = (key, draw(json_values(draw(st.integers(0, 2)), 4)))
        obj.pairs.insert(draw(st.integers(0, len(obj.pairs))), twin)
    elif what in ("number", "syntax"):
        bad = Raw((draw(BAD_NUMBERS) if what == "number" else draw(st.sampled_from(BAD_SYNTAX))).encode("utf-8"))
        if values_of(config) and draw(st.booleans()):
            config = replace_value(config, draw(st.integers(0, values_of(config) - 1)), bad)
        else:
            config = Obj(config.pairs + [("x", bad)])
    elif what == "not_object":
        config = draw(st.one_of(scalars.filter(lambda v: v is not None), st.lists(scalars, max_size=3)))
        status, code, field = 400, "validation_failed", "config"
    body = writer.body(fields(config))
    if what == "truncated":
        body = body[:draw(st.integers(0, len(body) - 1))]
    elif what == "trailing":
        body += draw(st.sampled_from(TRAILING))
    assume(len(body) <= BODY_MAX)
    return body, status, code, field


def refuse_all(admin, org, method, url, patch, examples):
    """Send `examples` bodies of each kind of INVALID (twice as many numbers
    and bad UTF-8: they come in more shapes); each is refused in the error
    shape and leaves the org's lists and audit events as they were."""
    seen = snapshot(admin, org)
    for what in INVALID:
        @settings(PROPERTY, max_examples=examples * (2 if what in ("number", "utf8") else 1))
        @given(case=invalid_bodies(what, patch), kind=kinds)
        def refused(case, kind):
            body, status, code, field = case
            note("invalid: %s" % what)
            r = send(admin, method, url(kind), body)
            assert_error(r, status, code, field)
            assert snapshot(admin, org) == seen
        refused()


def test_invalid_configs_are_refused_and_store_nothing(quiet_team):
    admin, org, _ = quiet_team
    rows = stored_rows(org)
    refuse_all(admin, org, "POST", lambda kind: path(org, "/" + kind), False, 4)
    assert stored_rows(org) == rows


def test_invalid_patches_change_nothing(quiet_team):
    admin, org, objects = quiet_team
    rows = stored_rows(org)
    refuse_all(admin, org, "PATCH", lambda kind: path(org, "/%s/%s" % (kind, objects[kind])), True, 2)
    assert stored_rows(org) == rows
