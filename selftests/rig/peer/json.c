// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal JSON scanning, enough for QMP's replies and events: skipping
 * values, finding a top-level member, reading a string; and escaping a
 * string for the commands sent to QMP.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

/* s is at an opening quote: just past the closing one, or NULL. */
static const char *json_skip_string(const char *s)
{
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s ? s + 1 : NULL;
}

/* Just past the value at s, or NULL if it is cut short. */
static const char *json_skip(const char *s)
{
	int depth = 0;

	s = json_ws(s);
	do {
		if (!*s)
			return NULL;
		if (*s == '"') {
			s = json_skip_string(s);
			if (!s)
				return NULL;
			continue;
		}
		if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
			depth--;
		else if (!depth)
			return s + strcspn(s, ",}] \t\r\n");
		s++;
	} while (depth > 0);
	return s;
}

/* s is at the ':' of a member: the key of the next member, or NULL. */
static const char *json_next_key(const char *s)
{
	s = json_skip(s + 1);
	if (!s)
		return NULL;
	s = json_ws(s);
	return *s == ',' ? json_ws(s + 1) : NULL;
}

/* The value of key in the object at obj (top level only), or NULL. */
const char *json_member(const char *obj, const char *key)
{
	size_t klen = strlen(key);
	const char *s, *end;
	bool hit;

	s = obj ? json_ws(obj) : NULL;
	if (!s || *s != '{')
		return NULL;
	for (s = json_ws(s + 1); s && *s == '"'; s = json_next_key(s)) {
		end = json_skip_string(s);
		if (!end)
			return NULL;
		hit = (size_t)(end - s - 2) == klen && !memcmp(s + 1, key, klen);
		s = json_ws(end);
		if (*s != ':')
			return NULL;
		if (hit)
			return json_ws(s + 1);
	}
	return NULL;
}

/* The character the \uXXXX escape at v stands for; '?' if not printable ASCII. */
static char json_unicode(const char **v)
{
	char hex[5];
	long c;
	int i;

	for (i = 1; i <= 4; i++)
		if (!isxdigit((unsigned char)(*v)[i]))
			return '?';
	memcpy(hex, *v + 1, 4);
	hex[4] = '\0';
	c = strtol(hex, NULL, 16);
	*v += 4;
	return c >= 0x20 && c < 0x7f ? c : '?';
}

/* Copy the string value at v, unescaped, truncated to fit. */
bool json_string(const char *v, char *out, size_t size)
{
	size_t n = 0;
	char c;

	if (!v || *v != '"' || !json_skip_string(v))
		return false;
	for (v++; *v != '"' && n + 1 < size; v++) {
		c = *v;
		if (c == '\\') {
			c = *++v;
			if (c == 'u')
				c = json_unicode(&v);
			else if (c == 'n' || c == 't' || c == 'r')
				c = ' ';
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

bool json_true(const char *v)
{
	return v && !strncmp(v, "true", 4);
}

/* Escape src as the inside of a JSON string. */
void json_escape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src && n + 7 < size; src++) {
		unsigned char c = *src;

		if (c == '"' || c == '\\') {
			dst[n++] = '\\';
			dst[n++] = c;
		} else if (c < 0x20) {
			n += sprintf(dst + n, "\\u%04x", c);
		} else {
			dst[n++] = c;
		}
	}
	dst[n] = '\0';
}
