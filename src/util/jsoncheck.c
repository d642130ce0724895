/*
 * jsoncheck: recursive descent over the RFC 8259 grammar; the recursion is
 * bounded by max_depth.  The same scan measures the text (json_measure),
 * and a second descent walks the checked text beside json-c's tree
 * (json_parse_exact).  See jsoncheck.h.
 */
#include "util/jsoncheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char WHY_SYNTAX[] = "not valid JSON (RFC 8259)";
static const char WHY_DEPTH[] = "nested too deeply";
static const char WHY_NUL[] = "\\u0000 is not allowed in JSON text";
static const char WHY_SURROGATE[] = "a \\u escape is a lone surrogate, not a character";
static const char WHY_NUMBER[] =
    "a number has too many digits to be stored exactly (at most 131072 before the decimal "
    "point and 16383 after it, exponent applied; an exponent below 1073741823)";
static const char WHY_DUPLICATE[] = "an object has the same key twice";
const char json_why_nomem[] = "out of memory";

struct scan {
	const unsigned char *p, *end;
	int depth, max_depth;
	const char *why;    /* set by the check that failed; NULL: a syntax error */
	long long delta;    /* numbers written in full minus as sent */
	size_t ws, seps;    /* whitespace bytes; ':' and ',' */
};

static bool value(struct scan *s);

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
		s->p++;
		s->ws++;
	}
}

static bool
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return false;
	s->p += n;
	return true;
}

/* One UTF-8 sequence starting at s->p (a lead byte >= 0x80). */
static bool
utf8_char(struct scan *s)
{
	const unsigned char *p = s->p;
	unsigned c = *p, need, min, cp;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3; min = 0x10000; cp = c & 0x07;
	} else {
		return false;
	}
	if ((size_t)(s->end - p) <= need)
		return false;
	for (unsigned i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	s->p += need + 1;
	return true;
}

/* Four hex digits at p (end bounds them): their value, or -1. */
static long
hex4_at(const unsigned char *p, const unsigned char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * The four hex digits after "\u" (s->p at the first): no U+0000, and a
 * high surrogate only when "\u" and a low surrogate follow.
 */
static bool
unicode_escape(struct scan *s)
{
	long v = hex4_at(s->p, s->end), low;

	if (v < 0)
		return false;
	s->p += 4;
	if (v == 0) {
		s->why = WHY_NUL;
		return false;
	}
	if (v >= 0xdc00 && v <= 0xdfff) {
		s->why = WHY_SURROGATE;
		return false;
	}
	if (v >= 0xd800 && v <= 0xdbff) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    (low = hex4_at(s->p + 2, s->end)) < 0xdc00 || low > 0xdfff) {
			s->why = WHY_SURROGATE;
			return false;
		}
		s->p += 6;
	}
	return true;
}

static bool
string(struct scan *s)
{
	s->p++; /* opening quote */
	while (s->p < s->end) {
		unsigned char c = *s->p;
		if (c == '"') {
			s->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			s->p++;
			if (s->p >= s->end)
				return false;
			c = *s->p++;
			if (c == 'u') {
				if (!unicode_escape(s))
					return false;
			} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
				return false;
			}
		} else if (c >= 0x80) {
			if (!utf8_char(s))
				return false;
		} else {
			s->p++;
		}
	}
	return false;
}

static bool
digits(struct scan *s)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/* Count the digits from start to s->p into *lead (zeros before the first other digit). */
static void
count_lead(const unsigned char *start, const unsigned char *stop, size_t *lead, bool *nonzero)
{
	for (const unsigned char *q = start; q < stop && !*nonzero; q++) {
		if (*q == '0')
			(*lead)++;
		else
			*nonzero = true;
	}
}

/*
 * A number; also how long PostgreSQL's numeric prints it (in full, no
 * exponent: integer digits, and as many decimals as the fraction had
 * minus the exponent), refused beyond numeric's limits.
 */
static bool
number(struct scan *s)
{
	const unsigned char *start = s->p, *mark;
	size_t int_digits, frac_digits = 0, lead = 0;
	bool neg = false, nonzero = false, exp_neg = false;
	long long exp = 0, point, int_len, scale, plain;

	if (s->p < s->end && *s->p == '-') {
		s->p++;
		neg = true;
	}
	mark = s->p;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
	} else if (!digits(s)) {
		return false;
	}
	int_digits = (size_t)(s->p - mark);
	count_lead(mark, s->p, &lead, &nonzero);
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		mark = s->p;
		if (!digits(s))
			return false;
		frac_digits = (size_t)(s->p - mark);
		count_lead(mark, s->p, &lead, &nonzero);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			exp_neg = *s->p++ == '-';
		mark = s->p;
		if (!digits(s))
			return false;
		for (; mark < s->p; mark++)
			if (exp < JSON_NUMBER_MAX_EXPONENT) /* saturates at or beyond the limit */
				exp = exp * 10 + (*mark - '0');
		if (exp_neg)
			exp = -exp;
	}
	/*
	 * PostgreSQL's numeric input refuses an exponent of INT_MAX / 2 or more
	 * either way before it looks at the digits: "0e1073741823" is zero, and
	 * still "value overflows numeric format".
	 */
	if (exp >= JSON_NUMBER_MAX_EXPONENT || exp <= -JSON_NUMBER_MAX_EXPONENT) {
		s->why = WHY_NUMBER;
		return false;
	}
	point = (long long)int_digits + exp; /* digits before the point, leading zeros too */
	int_len = !nonzero || point - (long long)lead <= 0 ? 1 : point - (long long)lead;
	scale = (long long)frac_digits - exp;
	if (scale < 0)
		scale = 0;
	if (int_len > JSON_NUMBER_MAX_INT_DIGITS || scale > JSON_NUMBER_MAX_SCALE) {
		s->why = WHY_NUMBER;
		return false;
	}
	plain = (neg && nonzero ? 1 : 0) + int_len + (scale > 0 ? 1 + scale : 0);
	s->delta += plain - (long long)(s->p - start);
	return true;
}

/* Object or array: open is '{' or '['. */
static bool
container(struct scan *s, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';

	if (++s->depth > s->max_depth) {
		s->why = WHY_DEPTH;
		return false;
	}
	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return true;
	}
	for (;;) {
		skip_ws(s);
		if (open == '{') {
			if (s->p >= s->end || *s->p != '"' || !string(s))
				return false;
			skip_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return false;
			s->seps++;
			skip_ws(s);
		}
		if (!value(s))
			return false;
		skip_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
			s->seps++;
			continue;
		}
		if (*s->p++ != close)
			return false;
		s->depth--;
		return true;
	}
}

static bool
value(struct scan *s)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
	case '[':
		return container(s, *s->p);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true");
	case 'f':
		return literal(s, "false");
	case 'n':
		return literal(s, "null");
	default:
		return number(s);
	}
}


static bool
scan_text(struct scan *s)
{
	skip_ws(s);
	if (!value(s))
		return false;
	skip_ws(s);
	return s->p == s->end;
}

bool
json_check_why(const char *text, size_t len, int max_depth, const char **why)
{
	struct scan s = {(const unsigned char *)text, (const unsigned char *)text + len, 0, max_depth,
	    NULL, 0, 0, 0};
	bool ok = scan_text(&s);

	if (why != NULL)
		*why = ok ? NULL : s.why ? s.why : WHY_SYNTAX;
	return ok;
}

bool
json_check(const char *text, size_t len, int max_depth)
{
	return json_check_why(text, len, max_depth, NULL);
}

int
json_measure(const char *text, size_t len, struct json_size *out)
{
	struct scan s = {(const unsigned char *)text, (const unsigned char *)text + len, 0, 1 << 20,
	    NULL, 0, 0, 0};
	long long full;

	if (!scan_text(&s))
		return -1;
	full = (long long)len - (long long)s.ws + s.delta;
	out->full = full > 0 ? (size_t)full : 0;
	out->pg = out->full + s.seps;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The walk beside json-c's tree (the text already passed the check). */

struct walk {
	const unsigned char *p, *end;
	char *buf; /* a decoded key */
	size_t cap;
};

static void
walk_ws(struct walk *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

static void
put_utf8(char **q, unsigned long cp)
{
	unsigned char *o = (unsigned char *)*q;

	if (cp < 0x80) {
		*o++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*o++ = (unsigned char)(0xc0 | (cp >> 6));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xe0 | (cp >> 12));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | (cp >> 18));
		*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*q = (char *)o;
}

/*
 * The string at w->p (its opening quote), decoded into w->buf when decode
 * is set (*n its length; a decoded string is never longer than its
 * text).  -1 when out of memory.
 */
static int
walk_string(struct walk *w, bool decode, size_t *n)
{
	const unsigned char *start = ++w->p;
	char *q;

	while (w->p < w->end && *w->p != '"')
		w->p += *w->p == '\\' ? 2 : 1;
	if (!decode) {
		w->p++;
		return 0;
	}
	if ((size_t)(w->p - start) + 1 > w->cap) {
		char *bigger = realloc(w->buf, (size_t)(w->p - start) + 1);
		if (bigger == NULL)
			return -1;
		w->buf = bigger;
		w->cap = (size_t)(w->p - start) + 1;
	}
	q = w->buf;
	for (const unsigned char *r = start; r < w->p;) {
		if (*r != '\\') {
			*q++ = (char)*r++;
			continue;
		}
		r++;
		switch (*r++) {
		case 'b': *q++ = '\b'; break;
		case 'f': *q++ = '\f'; break;
		case 'n': *q++ = '\n'; break;
		case 'r': *q++ = '\r'; break;
		case 't': *q++ = '\t'; break;
		case 'u': {
			unsigned long cp = (unsigned long)hex4_at(r, w->end);
			r += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) { /* the check saw the low half follow */
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    ((unsigned long)hex4_at(r + 2, w->end) - 0xdc00);
				r += 6;
			}
			put_utf8(&q, cp);
			break;
		}
		default: *q++ = (char)r[-1]; break; /* " \ / */
		}
	}
	*n = (size_t)(q - w->buf);
	w->p++;
	return 0;
}

/*
 * The value at w->p beside v, json-c's value for it.  Returns 0; 1 when
 * they do not match, which after json-c parsed this very text means a
 * duplicate key (json-c kept one member where the text has two); -1 when
 * out of memory.
 */
static int
walk_value(struct walk *w, json_object *v)
{
	const unsigned char *start;
	int rc;

	walk_ws(w);
	start = w->p;
	switch (*w->p) {
	case '{': {
		struct json_object_iterator it, end;
		if (!json_object_is_type(v, json_type_object))
			return 1;
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		w->p++;
		walk_ws(w);
		if (*w->p == '}') {
			w->p++;
			return json_object_iter_equal(&it, &end) ? 0 : 1;
		}
		for (;;) {
			const char *name;
			size_t n;
			walk_ws(w);
			if (walk_string(w, true, &n) < 0)
				return -1;
			if (json_object_iter_equal(&it, &end))
				return 1;
			name = json_object_iter_peek_name(&it);
			if (strlen(name) != n || memcmp(name, w->buf, n) != 0)
				return 1;
			walk_ws(w);
			w->p++; /* ':' */
			if ((rc = walk_value(w, json_object_iter_peek_value(&it))) != 0)
				return rc;
			json_object_iter_next(&it);
			walk_ws(w);
			if (*w->p++ == '}')
				return json_object_iter_equal(&it, &end) ? 0 : 1;
		}
	}
	case '[': {
		size_t i = 0;
		if (!json_object_is_type(v, json_type_array))
			return 1;
		w->p++;
		walk_ws(w);
		if (*w->p == ']') {
			w->p++;
			return json_object_array_length(v) == 0 ? 0 : 1;
		}
		for (;; i++) {
			if (i >= json_object_array_length(v))
				return 1;
			if ((rc = walk_value(w, json_object_array_get_idx(v, i))) != 0)
				return rc;
			walk_ws(w);
			if (*w->p++ == ']')
				return i + 1 == json_object_array_length(v) ? 0 : 1;
		}
	}
	case '"':
		(void)walk_string(w, false, NULL);
		return json_object_is_type(v, json_type_string) ? 0 : 1;
	case 't':
		w->p += 4;
		return json_object_is_type(v, json_type_boolean) ? 0 : 1;
	case 'f':
		w->p += 5;
		return json_object_is_type(v, json_type_boolean) ? 0 : 1;
	case 'n':
		w->p += 4;
		return v == NULL ? 0 : 1;
	default: {
		char *copy;
		while (w->p < w->end && *w->p != '\0' && strchr("0123456789+-.eE", *w->p) != NULL)
			w->p++;
		if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
			return 1;
		copy = strndup((const char *)start, (size_t)(w->p - start));
		if (copy == NULL)
			return -1;
		/* json-c's own way for a double parsed from text (json_object_new_double_s). */
		json_object_set_serializer(v, json_object_userdata_to_json_string, copy,
		    json_object_free_userdata);
		return 0;
	}
	}
}

/*
 * json-c 0.16 (Debian 12) decodes an escaped surrogate pair to U+FFFD, in
 * keys and values, when the character's low 16 bits fall in D800..DFFF
 * (U+1D800..U+1DFFF, U+2D800..U+2DFFF, ...: one astral character in 32,
 * SignWriting and CJK Extension F among them; measured over every high
 * surrogate), as if the decoded character were a surrogate itself.  Raw
 * UTF-8 it keeps as it is.  So json-c is given the text with every
 * escaped pair written as its character's four UTF-8 bytes (the same JSON,
 * 8 bytes shorter a pair).  text is checked: a high surrogate escape is
 * followed by a low one, and backslashes are only in strings.
 * Returns the new text (malloc'd, NUL-terminated; the caller frees it)
 * with its length in *n; NULL with *n = 0 when text has no escaped pair
 * (nothing to do), NULL with *n = 1 when out of memory.
 */
static char *
unescape_pairs(const char *text, size_t len, size_t *n)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	char *out = NULL, *q = NULL;

	*n = 0;
	while (p < end) {
		long hi = *p == '\\' && end - p >= 12 && p[1] == 'u' ? hex4_at(p + 2, end) : -1;
		if (hi < 0xd800 || hi > 0xdbff) {
			size_t step = *p == '\\' ? 2 : 1;
			if (out != NULL) {
				memcpy(q, p, step);
				q += step;
			}
			p += step;
			continue;
		}
		if (out == NULL) {
			out = malloc(len + 1);
			if (out == NULL) {
				*n = 1;
				return NULL;
			}
			memcpy(out, text, (size_t)(p - (const unsigned char *)text));
			q = out + (p - (const unsigned char *)text);
		}
		put_utf8(&q, 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
		    ((unsigned long)hex4_at(p + 8, end) - 0xdc00));
		p += 12;
	}
	if (out == NULL)
		return NULL;
	*q = '\0';
	*n = (size_t)(q - out);
	return out;
}

json_object *
json_parse_exact(const char *text, size_t len, int max_depth, const char **why)
{
	json_tokener *tok;
	json_object *obj;
	struct walk w;
	char *plain;
	size_t plain_len;
	int rc;

	if (!json_check_why(text, len, max_depth, why))
		return NULL;
	plain = unescape_pairs(text, len, &plain_len);
	if (plain == NULL && plain_len != 0) {
		*why = json_why_nomem;
		return NULL;
	}
	if (plain != NULL) {
		text = plain;
		len = plain_len;
	}
	w = (struct walk){(const unsigned char *)text, (const unsigned char *)text + len, NULL, 0};
	*why = WHY_SYNTAX;
	if (len > (size_t)INT32_MAX || (tok = json_tokener_new_ex(max_depth + 1)) == NULL) {
		free(plain);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		/* Strict mode needs the end of input to finish a bare number. */
		obj = json_tokener_parse_ex(tok, "", 1);
	}
	json_tokener_free(tok);
	if (obj == NULL) {
		free(plain);
		return NULL;
	}
	rc = walk_value(&w, obj);
	free(w.buf);
	free(plain);
	if (rc != 0) {
		json_object_put(obj);
		*why = rc > 0 ? WHY_DUPLICATE : json_why_nomem;
		return NULL;
	}
	*why = NULL;
	return obj;
}
