// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the policy parser. Any input must parse without a
 * crash, a leak or undefined behaviour; every broken line must print
 * exactly one error line; lookups must only ever give values in range; and
 * a policy without errors must read back from its own dump with the same
 * meaning, so that `vportxctl policy` shows what is really in effect.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A failed check is a crash: that is how libFuzzer keeps the input. */
static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "policy_fuzz: %s\n", what);
		abort();
	}
}

static int in(long long v, long long min, long long max)
{
	return v == -1 || (v >= min && v <= max);
}

static void check_settings(const struct vportx_settings *s)
{
	check(s->broken == !!s->why[0], "why without broken, or the reverse");
	check(!s->broken || (s->attach == -1 && s->tx_limit == -1 &&
			     !s->owner[0] && s->mode == -1),
	      "broken with settings");
	check(in(s->attach, 0, 1) && in(s->backend, 0, 1) &&
	      in(s->hold, 0, 1), "attach, backend or hold");
	check(in(s->tx_limit, VPORTX_POLICY_TX_LIMIT_MIN,
		 VPORTX_POLICY_TX_LIMIT_MAX), "tx_limit");
	check(in(s->tx_low, 0, VPORTX_POLICY_TX_LOW_MAX), "tx_low");
	check(s->tx_limit == -1 || s->tx_low < s->tx_limit, "tx_low");
	check(in(s->rx_budget, VPORTX_POLICY_RX_BUDGET_MIN,
		 VPORTX_POLICY_RX_BUDGET_MAX), "rx_budget");
	check(in(s->mode, 0, 0777), "mode");
	check(strnlen(s->owner, sizeof(s->owner)) < sizeof(s->owner) &&
	      strnlen(s->group, sizeof(s->group)) < sizeof(s->group) &&
	      strnlen(s->why, sizeof(s->why)) < sizeof(s->why),
	      "unterminated string");
}

/* The same settings, reasons aside (they name a file and line). */
static int same(const struct vportx_settings *a,
		const struct vportx_settings *b)
{
	return a->attach == b->attach && a->backend == b->backend &&
	       a->hold == b->hold && a->tx_limit == b->tx_limit &&
	       a->tx_low == b->tx_low && a->rx_budget == b->rx_budget &&
	       !strcmp(a->owner, b->owner) && !strcmp(a->group, b->group) &&
	       a->mode == b->mode && a->broken == b->broken;
}

static size_t count(const char *s, size_t len, char c)
{
	size_t n = 0;

	while (len--)
		n += *s++ == c;
	return n;
}

/* The dump of @p in a malloc()ed string. */
static char *dump(const struct vportx_policy *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	check(f != NULL, "open_memstream");
	vportx_policy_dump(p, f);
	check(!fclose(f), "fclose");
	return buf;
}

/* Whether every line of @s fits the parser's limit. */
static int short_lines(const char *s)
{
	const char *nl;

	for (; *s; s = nl + 1) {
		nl = strchrnul(s, '\n');
		if (nl - s > VPORTX_POLICY_LINE_MAX)
			return 0;
		if (!*nl)
			break;
	}
	return 1;
}

/* No errors: the dump must give every name the same settings. */
static void check_round_trip(const struct vportx_policy *p,
			     const char *const *names, size_t n)
{
	struct vportx_policy *q = vportx_policy_new();
	struct vportx_settings a, b;
	size_t len, len2, i;
	char *d = dump(p, &len), *d2;

	check(q != NULL, "out of memory");
	if (short_lines(d)) {
		check(!vportx_policy_parse(q, "dump", d, len, NULL),
		      "the dump does not parse");
		d2 = dump(q, &len2);
		check(len == len2 && !memcmp(d, d2, len), "the dump changed");
		free(d2);
		for (i = 0; i < n; i++) {
			vportx_policy_lookup(p, names[i], &a);
			vportx_policy_lookup(q, names[i], &b);
			check(same(&a, &b), "the dump means something else");
		}
	}
	free(d);
	vportx_policy_free(q);
}

/*
 * The input's first field into @buf, which is zeroed: likely a pattern
 * that matches itself.
 */
static void first_field(char *buf, size_t size, const char *text,
			size_t len)
{
	if (len)
		memcpy(buf, text, len < size - 1 ? len : size - 1);
	buf[strcspn(buf, " \t\r\n")] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char first[17] = "", field[65] = "", *errs = NULL;
	const char *const names[] = { "", "a", "org.qemu.guest_agent.0", first,
				field };
	struct vportx_policy *p = vportx_policy_new();
	struct vportx_settings s;
	size_t i, errs_len;
	FILE *err = open_memstream(&errs, &errs_len);
	int ret;

	check(p && err, "out of memory");
	if (size)
		memcpy(first, text, size < 16 ? size : 16);
	first_field(field, sizeof(field), text, size);
	ret = vportx_policy_parse(p, "fuzz", text, size, err);
	check(!fclose(err), "fclose");
	check(ret >= 0 && (size_t)ret == count(errs, errs_len, '\n'),
	      "not one error line per broken line");
	free(errs);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		vportx_policy_lookup(p, names[i], &s);
		check_settings(&s);
	}
	if (!ret)
		check_round_trip(p, names, ARRAY_SIZE(names));
	vportx_policy_free(p);
	return 0;
}
