// SPDX-License-Identifier: GPL-2.0
/*
 * ephport-jsoncheck: a strict JSON validator for the tests (the test VM is
 * busybox: no python, no jq). Not installed.
 *
 *   ephport-jsoncheck [-l] <input
 *
 * Accepts exactly RFC 8259's JSON text: the grammar, strings of valid
 * UTF-8 without raw control characters, escapes among the nine, \u
 * surrogates only in pairs; and more than the RFC asks, no object with
 * the same key twice. With -l, every line is one JSON text (a stream, one
 * object per line). Exits 0 if the input is valid, 1 (saying where and
 * why on stderr) if not, 2 on bad usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH	512

static const unsigned char *s;	/* the input */
static size_t len, pos;

static void fail(const char *why)
{
	size_t i, line = 1, col = 1;

	for (i = 0; i < pos && i < len; i++) {
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	fprintf(stderr, "ephport-jsoncheck: line %zu, column %zu (byte %zu): %s\n",
		line, col, pos, why);
	exit(1);
}

static int peek(void)
{
	return pos < len ? s[pos] : -1;
}

static void ws(bool newline)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' ||
			     (newline && s[pos] == '\n')))
		pos++;
}

static void literal(const char *word)
{
	size_t n = strlen(word);

	if (len - pos < n || memcmp(s + pos, word, n))
		fail("not a JSON value");
	pos += n;
}

static unsigned int hex4(void)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 4; i++, pos++) {
		int c = peek();

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			fail("\\u wants four hex digits");
	}
	return v;
}

/* One UTF-8 character: well-formed, shortest form, no surrogate. */
static void utf8(void)
{
	unsigned int c = s[pos], cp, n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		fail("not UTF-8");
	}
	for (i = 1; i < n; i++) {
		if (pos + i >= len || (s[pos + i] & 0xc0) != 0x80)
			fail("not UTF-8 (a sequence cut short)");
		cp = cp << 6 | (s[pos + i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		fail("not UTF-8 (overlong)");
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		fail("not UTF-8 (a surrogate or beyond U+10FFFF)");
	pos += n;
}

/* A string at pos (its opening quote); its extent in *start, *end. */
static void string(size_t *start, size_t *end)
{
	pos++;
	*start = pos;
	for (;;) {
		int c = peek();

		if (c < 0)
			fail("unterminated string");
		if (c == '"')
			break;
		if (c < 0x20)
			fail("a control character in a string");
		if (c >= 0x80) {
			utf8();
			continue;
		}
		pos++;
		if (c != '\\')
			continue;
		c = peek();
		if (c >= 0 && strchr("\"\\/bfnrt", c)) {
			pos++;
		} else if (c == 'u') {
			unsigned int u;

			pos++;
			u = hex4();
			if (u >= 0xdc00 && u <= 0xdfff)
				fail("a low surrogate without a high one");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (peek() != '\\' || pos + 1 >= len || s[pos + 1] != 'u')
					fail("a high surrogate without a low one");
				pos += 2;
				u = hex4();
				if (u < 0xdc00 || u > 0xdfff)
					fail("a high surrogate without a low one");
			}
		} else {
			fail("a bad escape");
		}
	}
	*end = pos;
	pos++;
}

static void number(void)
{
	if (peek() == '-')
		pos++;
	if (peek() == '0') {
		pos++;
	} else if (peek() >= '1' && peek() <= '9') {
		while (peek() >= '0' && peek() <= '9')
			pos++;
	} else {
		fail("not a JSON value");
	}
	if (peek() == '.') {
		pos++;
		if (!(peek() >= '0' && peek() <= '9'))
			fail("a digit wanted after '.'");
		while (peek() >= '0' && peek() <= '9')
			pos++;
	}
	if (peek() == 'e' || peek() == 'E') {
		pos++;
		if (peek() == '+' || peek() == '-')
			pos++;
		if (!(peek() >= '0' && peek() <= '9'))
			fail("a digit wanted in the exponent");
		while (peek() >= '0' && peek() <= '9')
			pos++;
	}
}

static void value(bool nl, int depth);

static void object(bool nl, int depth)
{
	size_t (*keys)[2] = NULL, nkeys = 0, i;

	pos++;
	ws(nl);
	if (peek() == '}') {
		pos++;
		return;
	}
	for (;;) {
		size_t a, b;

		ws(nl);
		if (peek() != '"')
			fail("a key (a string) wanted");
		string(&a, &b);
		for (i = 0; i < nkeys; i++)
			if (keys[i][1] - keys[i][0] == b - a &&
			    !memcmp(s + keys[i][0], s + a, b - a))
				fail("the same key twice in an object");
		keys = realloc(keys, (nkeys + 1) * sizeof(*keys));
		if (!keys)
			fail("out of memory");
		keys[nkeys][0] = a;
		keys[nkeys++][1] = b;
		ws(nl);
		if (peek() != ':')
			fail("':' wanted");
		pos++;
		value(nl, depth + 1);
		ws(nl);
		if (peek() == '}')
			break;
		if (peek() != ',')
			fail("',' or '}' wanted");
		pos++;
	}
	pos++;
	free(keys);
}

static void array(bool nl, int depth)
{
	pos++;
	ws(nl);
	if (peek() == ']') {
		pos++;
		return;
	}
	for (;;) {
		value(nl, depth + 1);
		ws(nl);
		if (peek() == ']')
			break;
		if (peek() != ',')
			fail("',' or ']' wanted");
		pos++;
	}
	pos++;
}

/* A value; nl: newlines are whitespace (not in -l mode). */
static void value(bool nl, int depth)
{
	size_t a, b;

	if (depth > MAX_DEPTH)
		fail("nested too deep");
	ws(nl);
	switch (peek()) {
	case '{':
		object(nl, depth);
		break;
	case '[':
		array(nl, depth);
		break;
	case '"':
		string(&a, &b);
		break;
	case 't':
		literal("true");
		break;
	case 'f':
		literal("false");
		break;
	case 'n':
		literal("null");
		break;
	case -1:
		fail("no value");
		break;
	default:
		number();
	}
}

int main(int argc, char **argv)
{
	bool lines = argc == 2 && !strcmp(argv[1], "-l");
	size_t cap = 0, n, texts = 0;
	unsigned char *buf = NULL;

	if (argc > 2 || (argc == 2 && !lines)) {
		fprintf(stderr, "usage: ephport-jsoncheck [-l] <input\n");
		return 2;
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (!buf) {
				fprintf(stderr, "ephport-jsoncheck: out of memory\n");
				return 1;
			}
		}
		n = fread(buf + len, 1, cap - len, stdin);
		len += n;
	} while (n);
	if (ferror(stdin)) {
		perror("ephport-jsoncheck: stdin");
		return 1;
	}
	s = buf;
	if (!lines) {
		value(true, 0);
		ws(true);
		if (pos < len)
			fail("text after the value");
		return 0;
	}
	while (pos < len) {
		value(false, 0);
		ws(false);
		if (peek() != '\n')
			fail("text after the line's value");
		pos++;
		texts++;
	}
	if (!texts)
		fail("no line");
	return 0;
}
