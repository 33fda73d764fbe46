// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the policy parser (policy.c), run on the build host by
 * `make -C userspace test`. Each case prints "ok N - name" or "not ok N -
 * name" followed by "# " lines saying what differed; the last line is
 * "N passed, N failed" and the exit status is 1 if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct t {
	int n, passed, failed;
	bool ok;	/* the current case, so far */
};

/* A parsed text: the policy, what parse returned and printed. */
struct parsed {
	struct vportx_policy *p;
	int ret;
	char *errs;
	size_t errs_len;
};

static void begin(struct t *t)
{
	t->ok = true;
}

static void end(struct t *t, const char *name)
{
	printf("%s %d - %s\n", t->ok ? "ok" : "not ok", ++t->n, name);
	if (t->ok)
		t->passed++;
	else
		t->failed++;
}

/* Note a failed check of the current case, with why. */
static void fail(struct t *t, const char *fmt, ...)
{
	va_list ap;

	t->ok = false;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void check_str(struct t *t, const char *what, const char *got,
		      const char *want)
{
	if (strcmp(got, want))
		fail(t, "%s: got \"%s\", want \"%s\"", what, got, want);
}

static void check_ll(struct t *t, const char *what, long long got,
		     long long want)
{
	if (got != want)
		fail(t, "%s: got %lld, want %lld", what, got, want);
}

static void parse_n(struct parsed *r, const char *file, const char *text,
		    size_t len)
{
	FILE *err;

	r->p = vportx_policy_new();
	err = open_memstream(&r->errs, &r->errs_len);
	if (!r->p || !err)
		abort();
	r->ret = vportx_policy_parse(r->p, file, text, len, err);
	fclose(err);
}

static void parse(struct parsed *r, const char *text)
{
	parse_n(r, "t.conf", text, strlen(text));
}

static void done(struct parsed *r)
{
	vportx_policy_free(r->p);
	free(r->errs);
}

static struct vportx_settings lookup(struct parsed *r, const char *name)
{
	struct vportx_settings s;

	vportx_policy_lookup(r->p, name, &s);
	return s;
}

static char *dump(const struct vportx_policy *p)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	vportx_policy_dump(p, f);
	fclose(f);
	return buf;
}

/* Whether nothing at all is set in @s. */
static bool all_unset(const struct vportx_settings *s)
{
	return s->attach == -1 && s->backend == -1 && s->hold == -1 &&
	       s->compat == -1 &&
	       s->tx_limit == -1 && s->tx_low == -1 && s->rx_budget == -1 &&
	       !s->owner[0] && !s->group[0] && s->mode == -1;
}

static void check_unset(struct t *t, const char *name,
			const struct vportx_settings *s)
{
	if (!all_unset(s) || s->broken)
		fail(t, "%s: settings or broken, want nothing", name);
}

static void check_broken(struct t *t, const char *name,
			 const struct vportx_settings *s, const char *why)
{
	if (!s->broken)
		fail(t, "%s: not broken", name);
	if (!all_unset(s))
		fail(t, "%s: broken but with settings", name);
	check_str(t, name, s->why, why);
}

/* Parse @text, expect @ret errors printed as @errs. */
static void expect_errors(struct t *t, const char *name, const char *text,
			  size_t len, int ret, const char *errs)
{
	struct parsed r;

	begin(t);
	parse_n(&r, "t.conf", text, len);
	check_ll(t, "errors", r.ret, ret);
	check_str(t, "messages", r.errs, errs);
	end(t, name);
	done(&r);
}

/* Bits of the expected messages. */
#define SIZE_HINT "(a size: digits, then maybe K, M or G)"
#define BIG_RANGE "(4096..268435456)"
#define USER_HINT "(a user name or uid)"
#define MODE_BITS "(setuid, setgid or sticky bit)"
#define NAME32 "abcdefghijklmnopqrstuvwxyz012345"

/* One line each, with the reason expected after "t.conf:1: ". */
static const struct {
	const char *name, *text, *why;
} error_cases[] = {
	{ "unknown key", "x hodl=open\n", "unknown key \"hodl\"" },
	{ "empty key", "x =yes\n", "unknown key \"\"" },
	{ "missing =", "x attach\n", "missing \"=\" in \"attach\"" },
	{ "empty value", "x attach=\n", "empty value for attach" },
	{ "bad attach", "x attach=maybe\n",
	  "bad value for attach: \"maybe\" (yes or no)" },
	{ "bad backend", "x backend=Direct\n",
	  "bad value for backend: \"Direct\" (stacked or direct)" },
	{ "bad hold", "x hold=close\n",
	  "bad value for hold: \"close\" (open or always)" },
	{ "bad compat", "x compat=1\n",
	  "bad value for compat: \"1\" (yes or no)" },
	{ "bad size suffix", "x tx_limit=1KB\n",
	  "bad value for tx_limit: \"1KB\" " SIZE_HINT },
	{ "suffix and a half", "x tx_limit=64kK\n",
	  "bad value for tx_limit: \"64kK\" " SIZE_HINT },
	{ "lower-case too big", "x tx_limit=1g\n",
	  "out of range for tx_limit: \"1g\" " BIG_RANGE },
	{ "signed size", "x tx_low=-1\n",
	  "bad value for tx_low: \"-1\" " SIZE_HINT },
	{ "suffix alone", "x rx_budget=K\n",
	  "bad value for rx_budget: \"K\" " SIZE_HINT },
	{ "tx_limit too small", "x tx_limit=4095\n",
	  "out of range for tx_limit: \"4095\" " BIG_RANGE },
	{ "tx_limit too big", "x tx_limit=268435457\n",
	  "out of range for tx_limit: \"268435457\" " BIG_RANGE },
	{ "tx_low too big", "x tx_low=256M\n",
	  "out of range for tx_low: \"256M\" (0..268435455)" },
	{ "rx_budget in G", "x rx_budget=1G\n",
	  "out of range for rx_budget: \"1G\" " BIG_RANGE },
	{ "size overflow", "x rx_budget=99999999999999999999999G\n",
	  "out of range for rx_budget: \"99999999999999999999999G\" "
	  BIG_RANGE },
	{ "owner starting with -", "x owner=-bob\n",
	  "bad value for owner: \"-bob\" " USER_HINT },
	{ "owner with !", "x owner=bob!\n",
	  "bad value for owner: \"bob!\" " USER_HINT },
	{ "owner of 33 chars", "x owner=" NAME32 "6\n",
	  "bad value for owner: \"" NAME32 "\"... " USER_HINT },
	{ "uid -1", "x owner=4294967295\n",
	  "bad value for owner: \"4294967295\" " USER_HINT },
	{ "group with /", "x group=a/b\n",
	  "bad value for group: \"a/b\" (a group name or gid)" },
	{ "mode not octal", "x mode=0999\n",
	  "bad value for mode: \"0999\" (an octal number)" },
	{ "mode in hex", "x mode=0x1ff\n",
	  "bad value for mode: \"0x1ff\" (an octal number)" },
	{ "mode setuid", "x mode=4755\n",
	  "not allowed for mode: \"4755\" " MODE_BITS },
	{ "mode sticky", "x mode=01777\n",
	  "not allowed for mode: \"01777\" " MODE_BITS },
	{ "mode too big", "x mode=10000\n",
	  "out of range for mode: \"10000\" (0..0777)" },
	{ "key twice", "x attach=yes hold=open attach=no\n",
	  "key \"attach\" given twice" },
	{ "no setting", "x\n", "pattern \"x\" has no setting" },
	{ "only a comment", "x  # attach=yes\n",
	  "pattern \"x\" has no setting" },
	{ "# inside a value", "x attach=yes#no\n",
	  "bad value for attach: \"yes#no\" (yes or no)" },
	{ "unknown special pattern", "@unamed attach=no\n",
	  "unknown special pattern \"@unamed\"" },
	{ "escaped in messages", "x k\x1b[31m\"=1\n",
	  "unknown key \"k\\x1b[31m\\x22\"" },
	{ "first error of a line", "x attach=maybe hodl=1\n",
	  "bad value for attach: \"maybe\" (yes or no)" },
};

static void test_error_table(struct t *t)
{
	char name[128], *errs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(error_cases); i++) {
		snprintf(name, sizeof(name), "error: %s", error_cases[i].name);
		if (asprintf(&errs, "t.conf:1: %s\n", error_cases[i].why) < 0)
			abort();
		expect_errors(t, name, error_cases[i].text,
			      strlen(error_cases[i].text), 1, errs);
		free(errs);
	}
}

static void test_nul(struct t *t)
{
	static const char text[] = "a attach=yes\nb attach=no\0\nc hold=open";
	static const char pat[] = "ab\0 attach=yes\nx attach=no\n";
	struct vportx_settings s;
	struct parsed r;

	expect_errors(t, "error: NUL byte", text, sizeof(text) - 1, 1,
		      "t.conf:2: NUL byte in line\n");
	begin(t);
	parse_n(&r, "t.conf", pat, sizeof(pat) - 1);
	s = lookup(&r, "abc");
	check_broken(t, "abc", &s, "t.conf:1: NUL byte in line");
	s = lookup(&r, "x");
	check_ll(t, "x attach", s.attach, 0);
	end(t, "NUL in a pattern stands for anything");
	done(&r);
}

/* A line of @len bytes: "x tx_limit=4096", padded with spaces. */
static char *long_line(size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memset(s, ' ', len);
	memcpy(s, "x tx_limit=4096", 15);
	s[len] = '\0';
	return s;
}

static void test_long_lines(struct t *t)
{
	char *a = long_line(4096), *b = long_line(4097), *text;
	struct vportx_settings s;
	struct parsed r;

	if (asprintf(&text, "%s\n%s\ny hold=always\n", a, b) < 0)
		abort();
	begin(t);
	parse(&r, text);
	check_ll(t, "errors", r.ret, 1);
	check_str(t, "messages", r.errs,
		  "t.conf:2: line longer than 4096 bytes\n");
	s = lookup(&r, "x");
	check_broken(t, "x", &s, "t.conf:2: line longer than 4096 bytes");
	s = lookup(&r, "y");
	check_ll(t, "y hold", s.hold, VPORTX_POLICY_HOLD_ALWAYS);
	end(t, "4096 bytes are fine, 4097 are not");
	done(&r);
	free(text);
	free(a);
	free(b);
}

static void test_every_key(struct t *t)
{
	struct parsed r;
	struct vportx_settings s;

	begin(t);
	parse(&r, "org.qemu.guest_agent.0 attach=yes backend=direct\t"
		  "hold=always compat=no tx_limit=2M tx_low=512K\t"
		  "rx_budget=128K owner=qemu-ga group=kvm mode=0660\n");
	s = lookup(&r, "org.qemu.guest_agent.0");
	check_ll(t, "errors", r.ret, 0);
	check_ll(t, "broken", s.broken, 0);
	check_ll(t, "attach", s.attach, 1);
	check_ll(t, "backend", s.backend, VPORTX_POLICY_BACKEND_DIRECT);
	check_ll(t, "hold", s.hold, VPORTX_POLICY_HOLD_ALWAYS);
	check_ll(t, "compat", s.compat, 0);
	check_ll(t, "tx_limit", s.tx_limit, 2 << 20);
	check_ll(t, "tx_low", s.tx_low, 512 << 10);
	check_ll(t, "rx_budget", s.rx_budget, 128 << 10);
	check_str(t, "owner", s.owner, "qemu-ga");
	check_str(t, "group", s.group, "kvm");
	check_ll(t, "mode", s.mode, 0660);
	check_str(t, "why", s.why, "");
	end(t, "every key");
	done(&r);
}

static void test_other_words(struct t *t)
{
	struct parsed r;
	struct vportx_settings s;

	begin(t);
	parse(&r, "x attach=no backend=stacked hold=open compat=yes\n");
	s = lookup(&r, "x");
	check_ll(t, "attach", s.attach, 0);
	check_ll(t, "backend", s.backend, VPORTX_POLICY_BACKEND_STACKED);
	check_ll(t, "hold", s.hold, VPORTX_POLICY_HOLD_OPEN);
	check_ll(t, "compat", s.compat, 1);
	end(t, "attach=no backend=stacked hold=open compat=yes");
	done(&r);
}

static const struct {
	const char *line;
	long long tx_limit, tx_low, rx_budget;
} size_cases[] = {
	{ "tx_limit=4096 tx_low=0 rx_budget=4K", 4096, 0, 4096 },
	{ "tx_limit=256M tx_low=0G rx_budget=268435456", 256 << 20, 0,
	  256 << 20 },
	{ "tx_limit=0004096 tx_low=4095 rx_budget=1M", 4096, 4095, 1 << 20 },
	{ "tx_limit=2m tx_low=64k rx_budget=4k", 2 << 20, 64 << 10, 4096 },
	{ "tx_limit=262144K tx_low=255M rx_budget=0M", -1, -1, -1 },
};

/* The last size case is out of range: it checks that it is refused. */
static void test_sizes(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;
	char *text;
	size_t i;

	begin(t);
	for (i = 0; i < ARRAY_SIZE(size_cases); i++) {
		if (asprintf(&text, "x %s\n", size_cases[i].line) < 0)
			abort();
		parse(&r, text);
		s = lookup(&r, "x");
		check_ll(t, size_cases[i].line, r.ret,
			 i == ARRAY_SIZE(size_cases) - 1);
		check_ll(t, "tx_limit", s.tx_limit, size_cases[i].tx_limit);
		check_ll(t, "tx_low", s.tx_low, size_cases[i].tx_low);
		check_ll(t, "rx_budget", s.rx_budget, size_cases[i].rx_budget);
		done(&r);
		free(text);
	}
	end(t, "sizes: bytes, K, M, G, leading zeros, both ends of ranges");
}

/*
 * vportx_policy_size(), the command line's parser: what a policy line
 * takes, and the same reason as a line's, without "FILE:LINE: ".
 */
static const struct {
	const char *key, *text;
	int ret;
	long long bytes;
	const char *why;
} cli_size_cases[] = {
	{ "tx_limit", "64k", 0, 64 << 10, "" },
	{ "tx_limit", "64K", 0, 64 << 10, "" },
	{ "tx_low", "0", 0, 0, "" },
	{ "rx_budget", "256M", 0, 256 << 20, "" },
	{ "tx_limit", "64x", -EINVAL, -1,
	  "bad value for tx_limit: \"64x\" " SIZE_HINT },
	{ "tx_limit", " 64K", -EINVAL, -1,
	  "bad value for tx_limit: \"\\x2064K\" " SIZE_HINT },
	{ "tx_low", "-1", -EINVAL, -1,
	  "bad value for tx_low: \"-1\" " SIZE_HINT },
	{ "tx_low", "", -EINVAL, -1, "empty value for tx_low" },
	{ "tx_limit", "4095", -ERANGE, -1,
	  "out of range for tx_limit: \"4095\" " BIG_RANGE },
	{ "tx_low", "256M", -ERANGE, -1,
	  "out of range for tx_low: \"256M\" (0..268435455)" },
	{ "hold", "1", -ENOENT, -1, "unknown size key \"hold\"" },
};

static void test_cli_sizes(struct t *t)
{
	char msg[256], *text, *want;
	long long bytes;
	struct parsed r;
	size_t i;
	int ret;

	begin(t);
	for (i = 0; i < ARRAY_SIZE(cli_size_cases); i++) {
		bytes = -1;
		msg[0] = '\0';
		ret = vportx_policy_size(cli_size_cases[i].key,
					 cli_size_cases[i].text, &bytes, msg,
					 sizeof(msg));
		check_ll(t, cli_size_cases[i].text, ret, cli_size_cases[i].ret);
		check_ll(t, "bytes", bytes, cli_size_cases[i].bytes);
		check_str(t, "why", msg, cli_size_cases[i].why);
		/* The same value in a policy line: the same verdict. */
		if (ret == -ENOENT || !*cli_size_cases[i].text ||
		    strchr(cli_size_cases[i].text, ' '))
			continue;
		if (asprintf(&text, "x %s=%s\n", cli_size_cases[i].key,
			     cli_size_cases[i].text) < 0 ||
		    asprintf(&want, "%s%s%s", *msg ? "t.conf:1: " : "", msg,
			     *msg ? "\n" : "") < 0)
			abort();
		parse(&r, text);
		check_str(t, "policy line", r.errs, want);
		done(&r);
		free(text);
		free(want);
	}
	end(t, "the command line's sizes: the policy's parser and messages");
}

static void test_names_and_modes(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "a owner=0 group=4294967294 mode=0\n"
		  "b owner=" NAME32 " group=a.b_c-d mode=777\n"
		  "c owner=_x mode=0000644\n");
	check_ll(t, "errors", r.ret, 0);
	s = lookup(&r, "a");
	check_str(t, "a owner", s.owner, "0");
	check_str(t, "a group", s.group, "4294967294");
	check_ll(t, "a mode", s.mode, 0);
	s = lookup(&r, "b");
	check_str(t, "b owner", s.owner, NAME32);
	check_str(t, "b group", s.group, "a.b_c-d");
	check_ll(t, "b mode", s.mode, 0777);
	s = lookup(&r, "c");
	check_str(t, "c owner", s.owner, "_x");
	check_ll(t, "c mode", s.mode, 0644);
	end(t, "owner, group and mode forms");
	done(&r);
}

static void test_override(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "* attach=no hold=open tx_limit=64K owner=root\n"
		  "org.* attach=yes\n"
		  "org.qemu.* hold=always owner=qemu\n"
		  "com.* tx_limit=1M\n");
	s = lookup(&r, "org.qemu.guest_agent.0");
	check_ll(t, "attach", s.attach, 1);
	check_ll(t, "hold", s.hold, 1);
	check_ll(t, "tx_limit", s.tx_limit, 64 << 10);
	check_str(t, "owner", s.owner, "qemu");
	check_ll(t, "mode", s.mode, -1);
	s = lookup(&r, "com.x");
	check_ll(t, "com attach", s.attach, 0);
	check_ll(t, "com tx_limit", s.tx_limit, 1 << 20);
	end(t, "later entries win, key by key");
	done(&r);
}

static void test_unnamed(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "* hold=open\n@unnamed attach=no\n?* attach=yes\n");
	s = lookup(&r, "");
	check_ll(t, "unnamed attach", s.attach, 0);
	check_ll(t, "unnamed hold (from *)", s.hold, 0);
	s = lookup(&r, NULL);
	check_ll(t, "NULL name attach", s.attach, 0);
	s = lookup(&r, "@unnamed");
	check_ll(t, "port named @unnamed", s.attach, 1);
	s = lookup(&r, "x");
	check_ll(t, "x attach", s.attach, 1);
	check_ll(t, "x hold", s.hold, 0);
	end(t, "@unnamed matches only unnamed ports, * every port");
	done(&r);
}

static void test_globs(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "[ab]? attach=yes\nc.* attach=no\n");
	check_ll(t, "ax", lookup(&r, "ax").attach, 1);
	check_ll(t, "bx", lookup(&r, "bx").attach, 1);
	check_ll(t, "cx", lookup(&r, "cx").attach, -1);
	check_ll(t, "axx", lookup(&r, "axx").attach, -1);
	check_ll(t, "c.d", lookup(&r, "c.d").attach, 0);
	s = lookup(&r, "unmatched");
	check_unset(t, "unmatched", &s);
	end(t, "patterns are fnmatch() globs");
	done(&r);
}

static void test_broken(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "* attach=yes hold=always\n"
		  "org.qemu.* hold=oppen\n"
		  "org.* hodl=open\n"
		  "org.example.x attach=no\n");
	check_ll(t, "errors", r.ret, 2);
	s = lookup(&r, "org.qemu.guest_agent.0");
	check_broken(t, "qemu", &s,
		     "t.conf:2: bad value for hold: \"oppen\" (open or always)");
	s = lookup(&r, "org.example.x");
	check_broken(t, "example", &s, "t.conf:3: unknown key \"hodl\"");
	s = lookup(&r, "com.example.y");
	check_ll(t, "other attach", s.attach, 1);
	check_ll(t, "other hold", s.hold, 1);
	check_ll(t, "other broken", s.broken, 0);
	end(t, "broken entries leave only the ports they match alone");
	done(&r);
}

static void test_tx_low(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "* tx_limit=64K\n"
		  "a tx_low=64K\n"
		  "b tx_low=32K\n"
		  "c tx_low=0\n"
		  "d tx_low=1M tx_limit=1M\n"
		  "d tx_limit=2M\n");
	check_ll(t, "errors", r.ret, 0);
	s = lookup(&r, "a");
	check_broken(t, "a", &s,
		     "t.conf:2: tx_low 65536 is not below tx_limit 65536");
	check_ll(t, "b tx_low", lookup(&r, "b").tx_low, 32 << 10);
	check_ll(t, "c tx_low", lookup(&r, "c").tx_low, 0);
	check_ll(t, "d tx_limit", lookup(&r, "d").tx_limit, 2 << 20);
	check_ll(t, "d broken", lookup(&r, "d").broken, 0);
	end(t, "tx_low must be below tx_limit, after every override");
	done(&r);
}

static void test_comments(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "# a comment\n"
		  "\n"
		  "   \t# an indented comment\n"
		  "  \t\t\n"
		  "x#y attach=yes\t# a trailing comment hodl=1\n"
		  "z hodl=open\n");
	check_ll(t, "errors", r.ret, 1);
	check_str(t, "messages", r.errs, "t.conf:6: unknown key \"hodl\"\n");
	s = lookup(&r, "x#y");
	check_ll(t, "x#y attach", s.attach, 1);
	check_ll(t, "x#y hold", s.hold, -1);
	end(t, "comments and blank lines; line numbers count them");
	done(&r);
}

static void test_crlf(struct t *t)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	parse(&r, "# dos\r\nx attach=yes\r\n\r\ny mode=0600\t\r\nz\r\n");
	check_ll(t, "errors", r.ret, 1);
	check_str(t, "messages", r.errs,
		  "t.conf:5: pattern \"z\" has no setting\n");
	s = lookup(&r, "x");
	check_ll(t, "x attach", s.attach, 1);
	s = lookup(&r, "y");
	check_ll(t, "y mode", s.mode, 0600);
	end(t, "CRLF line endings");
	done(&r);
}

static void test_no_newline(struct t *t)
{
	struct parsed r;

	begin(t);
	parse(&r, "x attach=yes\ny attach=no");
	check_ll(t, "errors", r.ret, 0);
	check_ll(t, "y attach", lookup(&r, "y").attach, 0);
	done(&r);
	parse(&r, "x attach=yes\ny attach=oui");
	check_str(t, "messages", r.errs,
		  "t.conf:2: bad value for attach: \"oui\" (yes or no)\n");
	done(&r);
	parse(&r, "");
	check_ll(t, "empty text errors", r.ret, 0);
	end(t, "a last line without a newline; an empty text");
	done(&r);
}

static void test_counts(struct t *t)
{
	static const char text[] = "a b\nc d=1\ne attach=yes\nf tx_low=x\n";
	struct vportx_policy *p = vportx_policy_new();
	struct parsed r = { .p = p };
	int ret;

	begin(t);
	if (!p)
		abort();
	ret = vportx_policy_parse(p, "q.conf", text, strlen(text), NULL);
	check_ll(t, "errors, silent", ret, 3);
	ret = vportx_policy_parse(p, NULL, "g\n", 2, NULL);
	check_ll(t, "errors, no file name", ret, 1);
	check_str(t, "why", lookup(&r, "g").why,
		  "-:1: pattern \"g\" has no setting");
	end(t, "the error count; err and file may be NULL");
	vportx_policy_free(p);
}

static void test_dump(struct t *t)
{
	struct parsed r;
	char *d;

	begin(t);
	parse(&r, "  org.*\tmode=600  rx_budget=5000 tx_limit=1048576\t"
		  "attach=yes # c\n"
		  "x tx_low=3072 rx_budget=1G\n"
		  "@unnamed tx_low=0 owner=0 hold=open group=g backend=direct\n");
	d = dump(r.p);
	check_str(t, "dump", d,
		  "org.* attach=yes tx_limit=1M rx_budget=5000 mode=0600\n"
		  "# broken: x (t.conf:2: out of range for rx_budget: \"1G\" "
		  BIG_RANGE ")\n"
		  "@unnamed backend=direct hold=open tx_low=0 owner=0 group=g\n");
	end(t, "dump: normalised entries, broken ones as comments");
	free(d);
	done(&r);
}

static void test_parse_twice(struct t *t)
{
	struct vportx_policy *p = vportx_policy_new();
	struct parsed r = { .p = p };

	begin(t);
	if (!p)
		abort();
	vportx_policy_parse(p, "1.conf", "* attach=no\n", 12, NULL);
	vportx_policy_parse(p, "2.conf", "x* attach=yes\n", 14, NULL);
	check_ll(t, "x attach", lookup(&r, "xy").attach, 1);
	check_ll(t, "y attach", lookup(&r, "y").attach, 0);
	end(t, "a second text goes after the first");
	vportx_policy_free(p);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write @text to ROOT/@rel, making the directories on the way. */
static void put(const char *root, const char *rel, const char *text)
{
	char path[4096], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			abort();
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static void load(struct parsed *r, const char *root)
{
	FILE *err;

	r->p = vportx_policy_new();
	err = open_memstream(&r->errs, &r->errs_len);
	if (!r->p || !err)
		abort();
	r->ret = vportx_policy_load(r->p, root, err);
	fclose(err);
}

static void test_load(struct t *t, const char *root)
{
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	put(root, "usr/lib/vportx/policy.conf",
	    "* attach=yes hold=open mode=0600\nlib.* owner=lib\n");
	put(root, "etc/vportx/policy.conf", "* hold=always\n");
	put(root, "etc/vportx/policy.d/10-b.conf", "* mode=0640\n");
	put(root, "etc/vportx/policy.d/9-a.conf", "* mode=0660 owner=nine\n");
	put(root, "etc/vportx/policy.d/11-c.conf.bak", "* mode=0666\n");
	put(root, "etc/vportx/policy.d/.12-d.conf", "* mode=0606\n");
	put(root, "etc/vportx/policy.d/12-e.conf", "z* attach=no");
	load(&r, root);
	check_ll(t, "errors", r.ret, 0);
	check_str(t, "messages", r.errs, "");
	s = lookup(&r, "x");
	check_ll(t, "attach (usr/lib)", s.attach, 1);
	check_ll(t, "hold (etc over usr/lib)", s.hold, 1);
	check_ll(t, "mode (10-b after 9-a)", s.mode, 0640);
	check_str(t, "owner (policy.d over usr/lib)", s.owner, "nine");
	check_ll(t, "z attach (no newline)", lookup(&r, "z").attach, 0);
	end(t, "load: usr/lib, then etc, then policy.d in version order");
	done(&r);
}

static void test_load_errors(struct t *t, const char *root)
{
	char dir[4200], want[8600];
	struct vportx_settings s;
	struct parsed r;

	begin(t);
	put(root, "etc/vportx/policy.d/20-x.conf", "x hodl=1\n");
	snprintf(dir, sizeof(dir), "%s/etc/vportx/policy.d/30-dir.conf", root);
	if (mkdir(dir, 0755))
		abort();
	load(&r, root);
	snprintf(want, sizeof(want),
		 "%s/etc/vportx/policy.d/20-x.conf:1: unknown key \"hodl\"\n"
		 "%s: Is a directory\n", root, dir);
	check_ll(t, "errors", r.ret, 2);
	check_str(t, "messages", r.errs, want);
	s = lookup(&r, "y");
	if (!s.broken || !strstr(s.why, "Is a directory"))
		fail(t, "y: not broken by the unreadable file: %s", s.why);
	end(t, "load: errors name the file; an unreadable one breaks all");
	done(&r);
}

static void test_load_missing(struct t *t, const char *root)
{
	struct vportx_settings s;
	char path[4200];
	struct parsed r;

	begin(t);
	snprintf(path, sizeof(path), "%s/nothing-here", root);
	load(&r, path);
	check_ll(t, "errors, no root", r.ret, 0);
	check_str(t, "messages", r.errs, "");
	s = lookup(&r, "x");
	check_unset(t, "x", &s);
	check_ll(t, "missing file",
		 vportx_policy_load_file(r.p, path, stderr), 0);
	end(t, "load: missing files and directories are fine");
	done(&r);
}

static void test_special_files(struct t *t, const char *root)
{
	char fifo[4200];
	struct parsed r;
	FILE *err;

	begin(t);
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", root);
	if (mkfifo(fifo, 0600))
		abort();
	r.p = vportx_policy_new();
	err = open_memstream(&r.errs, &r.errs_len);
	if (!r.p || !err)
		abort();
	check_ll(t, "FIFO", vportx_policy_load_file(r.p, fifo, err), 0);
	check_ll(t, "/dev/zero",
		 vportx_policy_load_file(r.p, "/dev/zero", err), 1);
	fclose(err);
	check_str(t, "messages", r.errs, "/dev/zero: File too large\n");
	check_str(t, "why", lookup(&r, "x").why, "/dev/zero: File too large");
	end(t, "load: a FIFO does not hang, /dev/zero does not fill memory");
	done(&r);
}

int main(void)
{
	char root[] = "/tmp/policy_test.XXXXXX";
	struct t t = { 0 };

	/* Whatever hangs fails: SIGALRM kills the program. */
	alarm(120);
	if (!mkdtemp(root)) {
		perror("policy_test: mkdtemp");
		return 2;
	}
	test_error_table(&t);
	test_nul(&t);
	test_long_lines(&t);
	test_every_key(&t);
	test_other_words(&t);
	test_sizes(&t);
	test_cli_sizes(&t);
	test_names_and_modes(&t);
	test_override(&t);
	test_unnamed(&t);
	test_globs(&t);
	test_broken(&t);
	test_tx_low(&t);
	test_comments(&t);
	test_crlf(&t);
	test_no_newline(&t);
	test_counts(&t);
	test_dump(&t);
	test_parse_twice(&t);
	test_load_missing(&t, root);
	test_load(&t, root);
	test_load_errors(&t, root);
	test_special_files(&t, root);
	rm_tree(root);
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
