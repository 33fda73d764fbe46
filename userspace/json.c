// SPDX-License-Identifier: GPL-2.0
/*
 * Just enough JSON for `vportxctl list --json` and `status --json`: port
 * names come from the host and may hold any byte, so strings are escaped
 * completely and always come out as valid UTF-8.
 */
#include <string.h>

#include "vportxctl.h"

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three-byte forms, surrogates, and beyond U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

static void json_char(FILE *out, unsigned char c)
{
	switch (c) {
	case '"':
		fputs("\\\"", out);
		break;
	case '\\':
		fputs("\\\\", out);
		break;
	case '\n':
		fputs("\\n", out);
		break;
	case '\t':
		fputs("\\t", out);
		break;
	default:
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	fputc('"', out);
	while (*p) {
		n = utf8_len(p);
		if (n == 1) {
			json_char(out, *p);
		} else if (n) {
			fwrite(p, 1, n, out);
		} else {
			fputs("\\ufffd", out);
			n = 1;
		}
		p += n;
	}
	fputc('"', out);
}

void json_number(FILE *out, const char *s)
{
	if (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 20)
		fputs(s, out);
	else
		fputs("null", out);
}
