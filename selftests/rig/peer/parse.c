// SPDX-License-Identifier: GPL-2.0
/*
 * Words and numbers: splitting a configuration line or a request into
 * words, and the decimal numbers in them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* Split s into at most max words; max + 1 means there were more. */
int split(char *s, char **words, int max)
{
	char *save, *w;
	int n = 0;

	for (w = strtok_r(s, " \t\r\n", &save); w;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

/* Decimal only: a leading 0 must not turn a seed into octal. */
bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

bool parse_inet_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!parse_u64(s, &v) || !v || v > 65535)
		return false;
	*port = v;
	return true;
}
