/*
 * jsoncheck: recursive descent over the RFC 8259 grammar; the recursion is
 * bounded by max_depth.  See jsoncheck.h.
 */
#include "util/jsoncheck.h"

#include <string.h>

struct scan {
	const unsigned char *p, *end;
	int depth, max_depth;
};

static bool value(struct scan *s);

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
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

static bool
hex4(struct scan *s)
{
	if (s->end - s->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s->p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	s->p += 4;
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
				if (!hex4(s))
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

static bool
number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
	} else if (!digits(s)) {
		return false;
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return false;
	}
	return true;
}

/* Object or array: open is '{' or '['. */
static bool
container(struct scan *s, unsigned char open)
{
	unsigned char close = open == '{' ? '}' : ']';

	if (++s->depth > s->max_depth)
		return false;
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
			skip_ws(s);
		}
		if (!value(s))
			return false;
		skip_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ',') {
			s->p++;
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

bool
json_check(const char *text, size_t len, int max_depth)
{
	struct scan s = {(const unsigned char *)text, (const unsigned char *)text + len, 0, max_depth};

	skip_ws(&s);
	if (!value(&s))
		return false;
	skip_ws(&s);
	return s.p == s.end;
}
