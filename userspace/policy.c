// SPDX-License-Identifier: GPL-2.0
/*
 * vportxctl policy files: see policy.h and Documentation/policy.rst.
 *
 * Text is handled as (pointer, length) spans, never as C strings: it may
 * hold NULs, and nothing is copied before its line is known to be good.
 * A line is either a good entry or a broken one, never something between.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define UNNAMED "@unnamed"
/* A policy is a few lines: anything bigger is a mistake (say /dev/zero). */
#define FILE_MAX (16 << 20)
/* Above every range below, and small enough to shift by 30 bits. */
#define NUM_CAP (1LL << 32)
#define ID_MAX 4294967294LL	/* (uid_t)-1 means "no change" to chown() */
/* Messages quote at most this much of a field, escaped. */
#define QUOTE_MAX 32
#define QUOTE_BUF (QUOTE_MAX * 4 + sizeof("\"\"..."))
#define MSG_MAX 256

struct span {
	const char *s;
	size_t len;
};

/**
 * struct entry - one line of a policy file
 * @set:	its settings; for a broken line, only @set.broken and @set.why
 * @where:	"FILE:LINE", or "FILE" for a file that could not be read
 * @pattern:	the pattern, followed by the bytes of @where
 */
struct entry {
	struct vportx_settings set;
	const char *where;
	char pattern[];
};

struct vportx_policy {
	struct entry **v;
	size_t n, cap;
};

enum kind { K_WORD, K_SIZE, K_NAME, K_MODE };

/**
 * struct key - what a key accepts and where it goes
 * @name:	the key
 * @kind:	the kind of value
 * @off:	the offset of its field in struct vportx_settings
 * @words:	K_WORD: the words for 0 and 1
 * @min:	K_SIZE: the smallest value
 * @max:	K_SIZE: the largest value
 * @hint:	what a good value looks like, for messages
 * @range:	the range of good values, for messages; K_SIZE keys have
 *		none, theirs is printed from @min and @max
 */
struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *words[2];
	long long min, max;
	const char *hint;
	const char *range;
};

#define AT(f) offsetof(struct vportx_settings, f)
#define SIZE_HINT "a size: digits, then maybe K, M or G"

/* In the order vportx_policy_dump() prints them. */
static const struct key keys[] = {
	{ "attach", K_WORD, AT(attach), { "no", "yes" },
	  .hint = "yes or no" },
	{ "backend", K_WORD, AT(backend), { "stacked", "direct" },
	  .hint = "stacked or direct" },
	{ "hold", K_WORD, AT(hold), { "open", "always" },
	  .hint = "open or always" },
	{ "compat", K_WORD, AT(compat), { "no", "yes" },
	  .hint = "yes or no" },
	{ "tx_limit", K_SIZE, AT(tx_limit),
	  .min = VPORTX_POLICY_TX_LIMIT_MIN, .max = VPORTX_POLICY_TX_LIMIT_MAX,
	  .hint = SIZE_HINT },
	{ "tx_low", K_SIZE, AT(tx_low),
	  .min = 0, .max = VPORTX_POLICY_TX_LOW_MAX, .hint = SIZE_HINT },
	{ "rx_budget", K_SIZE, AT(rx_budget),
	  .min = VPORTX_POLICY_RX_BUDGET_MIN,
	  .max = VPORTX_POLICY_RX_BUDGET_MAX, .hint = SIZE_HINT },
	{ "owner", K_NAME, AT(owner), .hint = "a user name or uid" },
	{ "group", K_NAME, AT(group), .hint = "a group name or gid" },
	{ "mode", K_MODE, AT(mode), .hint = "an octal number",
	  .range = "0..0777" },
};

static const struct vportx_settings unset = {
	.attach = -1, .backend = -1, .hold = -1, .compat = -1,
	.tx_limit = -1, .tx_low = -1, .rx_budget = -1, .mode = -1,
};

static void *field(struct vportx_settings *s, const struct key *k)
{
	return (char *)s + k->off;
}

static const void *cfield(const struct vportx_settings *s,
			  const struct key *k)
{
	return (const char *)s + k->off;
}

static size_t field_size(const struct key *k)
{
	switch (k->kind) {
	case K_SIZE:
		return sizeof(long long);
	case K_NAME:
		return sizeof(unset.owner);
	default:
		return sizeof(int);
	}
}

/* Whether @s has a value for @k: anything but what unset has. */
static bool is_set(const struct vportx_settings *s, const struct key *k)
{
	return memcmp(cfield(s, k), cfield(&unset, k), field_size(k));
}

static bool span_is(struct span sp, const char *s)
{
	return sp.len == strlen(s) && !memcmp(sp.s, s, sp.len);
}

/* A trailing \r is whitespace: files edited on Windows still work. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Consume the bytes at the start of @sp that are (not) spaces. */
static size_t skip(struct span *sp, bool space)
{
	size_t n = 0;

	while (n < sp->len && is_space(sp->s[n]) == space)
		n++;
	sp->s += n;
	sp->len -= n;
	return n;
}

/* The next field of @line, consumed; empty at the end of the line. */
static struct span next_field(struct span *line)
{
	struct span f;

	skip(line, true);
	f.s = line->s;
	f.len = skip(line, false);
	return f;
}

/* The next line of @text without its \n, consumed. */
static struct span next_line(struct span *text)
{
	const char *nl = memchr(text->s, '\n', text->len);
	struct span line = { text->s, nl ? (size_t)(nl - text->s) : text->len };
	size_t used = line.len + (nl ? 1 : 0);

	text->s += used;
	text->len -= used;
	return line;
}

/*
 * @f in quotes for a message: at most QUOTE_MAX bytes of it, and anything
 * that could upset a terminal or a log parser as \xNN.
 */
static const char *quote(char buf[QUOTE_BUF], struct span f)
{
	size_t i, o = 0;
	unsigned char c;

	buf[o++] = '"';
	for (i = 0; i < f.len && i < QUOTE_MAX; i++) {
		c = f.s[i];
		if (c > ' ' && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = c;
		else
			o += sprintf(buf + o, "\\x%02x", c);
	}
	strcpy(buf + o, f.len > QUOTE_MAX ? "\"..." : "\"");
	return buf;
}

/* Write the message for a broken line to @msg; false, to return it. */
#define bad(msg, ...) (snprintf((msg), MSG_MAX, __VA_ARGS__), false)

static bool bad_value(const struct key *k, struct span v, char *msg)
{
	char q[QUOTE_BUF];

	return bad(msg, "bad value for %s: %s (%s)", k->name, quote(q, v),
		   k->hint);
}

static bool out_of_range(const struct key *k, struct span v, char *msg)
{
	char q[QUOTE_BUF];

	if (k->kind == K_SIZE)
		return bad(msg, "out of range for %s: %s (%lld..%lld)", k->name,
			   quote(q, v), k->min, k->max);
	return bad(msg, "out of range for %s: %s (%s)", k->name, quote(q, v),
		   k->range);
}

/*
 * The number in @base that is all of @v, or -1. Big ones come out as
 * NUM_CAP, which is out of every range and can still be shifted.
 */
static long long parse_num(struct span v, unsigned int base)
{
	long long n = 0;
	unsigned int d;
	size_t i;

	if (!v.len)
		return -1;
	for (i = 0; i < v.len; i++) {
		d = (unsigned char)v.s[i] - '0';
		if (d >= base)
			return -1;
		n = n < NUM_CAP ? n * base + d : n;
	}
	return n < NUM_CAP ? n : NUM_CAP;
}

/*
 * Decimal digits, then maybe K, M or G (1024-based, either case), or -1.
 * The command line's sizes come here too (vportx_policy_size()).
 */
static long long parse_size(struct span v)
{
	static const char units[] = "KMGkmg";
	const char *u = v.len ? memchr(units, v.s[v.len - 1], 6) : NULL;
	long long n;

	if (u)
		v.len--;
	n = parse_num(v, 10);
	if (n < 0 || !u)
		return n;
	return n << (10 * ((u - units) % 3 + 1));
}

/* 1 to 32 of [A-Za-z0-9._-], not starting with '-'; a number is an id. */
static bool good_name(struct span v)
{
	size_t i;
	char c;

	if (!v.len || v.len > 32 || v.s[0] == '-')
		return false;
	for (i = 0; i < v.len; i++) {
		c = v.s[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && !strchr("._-", c))
			return false;
	}
	return parse_num(v, 10) <= ID_MAX;
}

static bool set_word(const struct key *k, struct span v,
		     struct vportx_settings *s, char *msg)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (span_is(v, k->words[i])) {
			*(int *)field(s, k) = i;
			return true;
		}
	}
	return bad_value(k, v, msg);
}

static bool set_size(const struct key *k, struct span v,
		     struct vportx_settings *s, char *msg)
{
	long long n = parse_size(v);

	if (n < 0)
		return bad_value(k, v, msg);
	if (n < k->min || n > k->max)
		return out_of_range(k, v, msg);
	*(long long *)field(s, k) = n;
	return true;
}

static bool set_name(const struct key *k, struct span v,
		     struct vportx_settings *s, char *msg)
{
	char *name = field(s, k);

	if (!good_name(v))
		return bad_value(k, v, msg);
	memcpy(name, v.s, v.len);
	name[v.len] = '\0';
	return true;
}

static bool set_mode(const struct key *k, struct span v,
		     struct vportx_settings *s, char *msg)
{
	char q[QUOTE_BUF];
	long long m = parse_num(v, 8);

	if (m < 0)
		return bad_value(k, v, msg);
	if (m > 07777)
		return out_of_range(k, v, msg);
	if (m & 07000)
		return bad(msg, "not allowed for mode: %s (%s)", quote(q, v),
			   "setuid, setgid or sticky bit");
	*(int *)field(s, k) = m;
	return true;
}

static bool set_value(const struct key *k, struct span v,
		      struct vportx_settings *s, char *msg)
{
	switch (k->kind) {
	case K_WORD:
		return set_word(k, v, s, msg);
	case K_SIZE:
		return set_size(k, v, s, msg);
	case K_NAME:
		return set_name(k, v, s, msg);
	default:
		return set_mode(k, v, s, msg);
	}
}

static const struct key *find_key(struct span name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (span_is(name, keys[i].name))
			return &keys[i];
	return NULL;
}

int vportx_policy_size(const char *key, const char *text, long long *out,
		       char *msg, size_t len)
{
	struct vportx_settings s = unset;
	struct span name = { key, strlen(key) }, v = { text, strlen(text) };
	const struct key *k = find_key(name);
	char buf[MSG_MAX] = "";

	if (!k || k->kind != K_SIZE) {
		snprintf(msg, len, "unknown size key \"%s\"", key);
		return -ENOENT;
	}
	if (!v.len)
		snprintf(buf, sizeof(buf), "empty value for %s", k->name);
	else
		set_size(k, v, &s, buf);
	snprintf(msg, len, "%s", buf);
	if (*buf)
		return parse_size(v) < 0 ? -EINVAL : -ERANGE;
	*out = *(long long *)field(&s, k);
	return 0;
}

/* One "key=value" into @s; @seen has a bit for each key the line had. */
static bool parse_setting(struct span f, struct vportx_settings *s,
			  unsigned int *seen, char *msg)
{
	const char *eq = memchr(f.s, '=', f.len);
	struct span name, v;
	const struct key *k;
	char q[QUOTE_BUF];

	if (!eq)
		return bad(msg, "missing \"=\" in %s", quote(q, f));
	name = (struct span){ f.s, eq - f.s };
	v = (struct span){ eq + 1, f.len - name.len - 1 };
	k = find_key(name);
	if (!k)
		return bad(msg, "unknown key %s", quote(q, name));
	if (*seen & 1U << (k - keys))
		return bad(msg, "key \"%s\" given twice", k->name);
	*seen |= 1U << (k - keys);
	if (!v.len)
		return bad(msg, "empty value for %s", k->name);
	return set_value(k, v, s, msg);
}

/* The settings after the pattern, up to a comment, into @s. */
static bool parse_settings(struct span pat, struct span rest,
			   struct vportx_settings *s, char *msg)
{
	unsigned int seen = 0;
	struct span f;
	char q[QUOTE_BUF];

	for (f = next_field(&rest); f.len && *f.s != '#';
	     f = next_field(&rest))
		if (!parse_setting(f, s, &seen, msg))
			return false;
	if (!seen)
		return bad(msg, "pattern %s has no setting", quote(q, pat));
	return true;
}

/* Parse an entry's @line into @s; false with @msg set if it is broken. */
static bool parse_entry(struct span line, struct span pat, struct span rest,
			struct vportx_settings *s, char *msg)
{
	char q[QUOTE_BUF];

	if (line.len > VPORTX_POLICY_LINE_MAX)
		return bad(msg, "line longer than %d bytes",
			   VPORTX_POLICY_LINE_MAX);
	if (memchr(line.s, '\0', line.len))
		return bad(msg, "NUL byte in line");
	if (*pat.s == '@' && !span_is(pat, UNNAMED))
		return bad(msg, "unknown special pattern %s", quote(q, pat));
	return parse_settings(pat, rest, s, msg);
}

static int grow(struct vportx_policy *p)
{
	size_t cap = p->cap ? 2 * p->cap : 16;
	struct entry **v;

	if (p->n < p->cap)
		return 0;
	v = reallocarray(p->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	p->cap = cap;
	return 0;
}

/*
 * A new entry for pattern @pat at @file:@nr (just @file if @nr is 0).
 * A NUL in the pattern of a broken line stands for anything: the line
 * covers at least the ports it would have without it.
 */
static struct entry *new_entry(struct span pat, const char *file,
			       unsigned int nr)
{
	size_t i, wlen = strlen(file) + (nr ? sizeof(":4294967295") : 0);
	struct entry *e = malloc(sizeof(*e) + pat.len + 1 + wlen + 1);

	if (!e)
		return NULL;
	e->set = unset;
	for (i = 0; i < pat.len; i++)
		e->pattern[i] = pat.s[i] ? pat.s[i] : '*';
	e->pattern[pat.len] = '\0';
	e->where = e->pattern + pat.len + 1;
	if (nr)
		sprintf(e->pattern + pat.len + 1, "%s:%u", file, nr);
	else
		strcpy(e->pattern + pat.len + 1, file);
	return e;
}

/* Make @s say "leave the port alone" because of @msg at @where. */
static void set_broken(struct vportx_settings *s, const char *where,
		       const char *msg, FILE *err)
{
	int len;

	*s = unset;
	s->broken = 1;
	len = snprintf(s->why, sizeof(s->why), "%s: %s", where, msg);
	if (len >= (int)sizeof(s->why))
		strcpy(s->why + sizeof(s->why) - sizeof("..."), "...");
	if (err)
		fprintf(err, "%s: %s\n", where, msg);
}

/* Add an entry; broken if @msg is not empty. 1 if broken, 0, -ENOMEM. */
static int add_entry(struct vportx_policy *p, struct span pat,
		     const char *file, unsigned int nr,
		     const struct vportx_settings *s, const char *msg,
		     FILE *err)
{
	struct entry *e = new_entry(pat, file, nr);

	if (!e || grow(p)) {
		free(e);
		return -ENOMEM;
	}
	e->set = *s;
	if (*msg)
		set_broken(&e->set, e->where, msg, err);
	p->v[p->n++] = e;
	return *msg ? 1 : 0;
}

/* Line @nr: 0 if it is blank, a comment or good, 1 if broken, -ENOMEM. */
static int parse_line(struct vportx_policy *p, const char *file,
		      unsigned int nr, struct span line, FILE *err)
{
	struct vportx_settings s = unset;
	struct span rest = line, pat = next_field(&rest);
	char msg[MSG_MAX] = "";

	if (!pat.len || *pat.s == '#')
		return 0;
	parse_entry(line, pat, rest, &s, msg);
	return add_entry(p, pat, file, nr, &s, msg, err);
}

struct vportx_policy *vportx_policy_new(void)
{
	return calloc(1, sizeof(struct vportx_policy));
}

void vportx_policy_free(struct vportx_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	free(p);
}

int vportx_policy_parse(struct vportx_policy *p, const char *file,
			const char *text, size_t len, FILE *err)
{
	struct span rest = { text, len };
	unsigned int nr = 0;
	int ret, errors = 0;

	if (!file)
		file = "-";
	while (rest.len) {
		ret = parse_line(p, file, ++nr, next_line(&rest), err);
		if (ret < 0)
			return ret;
		errors += ret;
	}
	return errors;
}

/*
 * @path exists but could not be read: what it says is unknown, so every
 * port is left alone. 1 (one error) or -ENOMEM.
 */
static int unreadable(struct vportx_policy *p, const char *path, int errnum,
		      FILE *err)
{
	struct span all = { "*", 1 };

	if (errnum == ENOMEM)
		return -ENOMEM;
	return add_entry(p, all, path, 0, &unset, strerror(errnum), err);
}

/* Make room for more of the file in @buf; 0 or -errno. */
static int more_room(char **buf, size_t *cap)
{
	size_t n = *cap ? 2 * *cap : 4096;
	char *b;

	if (*cap >= FILE_MAX)
		return -EFBIG;
	b = realloc(*buf, n);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/* All of @fd into *@buf (to free), its length in *@len; 0 or -errno. */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 0;
	ssize_t n = 1;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	while (n && !ret) {
		ret = *len < cap ? 0 : more_room(buf, &cap);
		n = ret ? 0 : read(fd, *buf + *len, cap - *len);
		if (n > 0)
			*len += n;
		else if (n < 0 && errno != EINTR)
			ret = -errno;
	}
	return ret;
}

int vportx_policy_load_file(struct vportx_policy *p, const char *path,
			    FILE *err)
{
	/* O_NONBLOCK: a FIFO named x.conf must not hang udev's worker. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char *text;
	size_t len;
	int ret;

	if (fd < 0)
		return errno == ENOENT ? 0 : unreadable(p, path, errno, err);
	ret = read_all(fd, &text, &len);
	close(fd);
	if (!ret)
		ret = vportx_policy_parse(p, path, text, len, err);
	else
		ret = unreadable(p, path, -ret, err);
	free(text);
	return ret;
}

/* Load @name in directory @dir. */
static int load_in(struct vportx_policy *p, const char *dir,
		   const char *name, FILE *err)
{
	char *path;
	int ret;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	ret = vportx_policy_load_file(p, path, err);
	free(path);
	return ret;
}

/* NAME.conf, not hidden (editors' and package managers' leftovers). */
static int is_conf(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	       !strcmp(d->d_name + len - 5, ".conf");
}

/* The .conf files of @dir in strverscmp() order: 9-a before 10-b. */
static int load_dir(struct vportx_policy *p, const char *dir, FILE *err)
{
	struct dirent **names;
	int i, n, ret = 0, total = 0;

	n = scandir(dir, &names, is_conf, versionsort);
	if (n < 0)
		return errno == ENOENT ? 0 : unreadable(p, dir, errno, err);
	for (i = 0; i < n; i++) {
		if (ret >= 0)
			ret = load_in(p, dir, names[i]->d_name, err);
		if (ret > 0)
			total += ret;
		free(names[i]);
	}
	free(names);
	return ret < 0 ? ret : total;
}

/* Load @rel under @root with @load. */
static int load_under(struct vportx_policy *p, const char *root,
		      const char *rel,
		      int (*load)(struct vportx_policy *p, const char *path,
				  FILE *err),
		      FILE *err)
{
	char *path;
	int ret;

	if (asprintf(&path, "%s%s", root, rel) < 0)
		return -ENOMEM;
	ret = load(p, path, err);
	free(path);
	return ret;
}

int vportx_policy_load(struct vportx_policy *p, const char *root, FILE *err)
{
	static const struct {
		const char *rel;
		int (*load)(struct vportx_policy *p, const char *path,
			    FILE *err);
	} files[] = {
		{ VPORTX_POLICY_LIBDIR "/policy.conf", vportx_policy_load_file },
		{ "/etc/vportx/policy.conf", vportx_policy_load_file },
		{ "/etc/vportx/policy.d", load_dir },
	};
	int ret, total = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		ret = load_under(p, root ? root : "", files[i].rel,
				 files[i].load, err);
		if (ret < 0)
			return ret;
		total += ret;
	}
	return total;
}

static bool matches(const struct entry *e, const char *name)
{
	if (!strcmp(e->pattern, UNNAMED))
		return !*name;
	return !fnmatch(e->pattern, name, 0);
}

static void apply(struct vportx_settings *s, const struct vportx_settings *e)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (is_set(e, &keys[i]))
			memcpy(field(s, &keys[i]), cfield(e, &keys[i]),
			       field_size(&keys[i]));
}

/* The kernel wants tx_low below tx_limit; @last set one of them last. */
static void check_tx(struct vportx_settings *s, const struct entry *last)
{
	char msg[MSG_MAX];

	if (s->tx_limit < 0 || s->tx_low < 0 || s->tx_low < s->tx_limit)
		return;
	snprintf(msg, sizeof(msg), "tx_low %lld is not below tx_limit %lld",
		 s->tx_low, s->tx_limit);
	set_broken(s, last->where, msg, NULL);
}

void vportx_policy_lookup(const struct vportx_policy *p, const char *name,
			  struct vportx_settings *out)
{
	const struct entry *e, *tx = NULL;
	size_t i;

	*out = unset;
	if (!name)
		name = "";
	for (i = 0; p && i < p->n; i++) {
		e = p->v[i];
		if (!matches(e, name))
			continue;
		if (e->set.broken) {
			*out = e->set;
			return;
		}
		apply(out, &e->set);
		if (e->set.tx_limit >= 0 || e->set.tx_low >= 0)
			tx = e;
	}
	check_tx(out, tx);
}

/* @n with the largest suffix that keeps it exact: 1M, not 1048576. */
static void print_size(long long n, FILE *out)
{
	static const char *const units[] = { "", "K", "M", "G" };
	size_t u = 0;

	while (n && !(n & 1023) && u + 1 < ARRAY_SIZE(units)) {
		n >>= 10;
		u++;
	}
	fprintf(out, "%lld%s", n, units[u]);
}

static void print_value(const struct vportx_settings *s, const struct key *k,
			FILE *out)
{
	const int *i = cfield(s, k);

	switch (k->kind) {
	case K_WORD:
		fputs(k->words[*i], out);
		break;
	case K_SIZE:
		print_size(*(const long long *)cfield(s, k), out);
		break;
	case K_NAME:
		fputs(cfield(s, k), out);
		break;
	default:
		fprintf(out, "%04o", *i);
	}
}

static void dump_entry(const struct entry *e, FILE *out)
{
	size_t i;

	if (e->set.broken) {
		fprintf(out, "# broken: %s (%s)\n", e->pattern, e->set.why);
		return;
	}
	fputs(e->pattern, out);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (is_set(&e->set, &keys[i])) {
			fprintf(out, " %s=", keys[i].name);
			print_value(&e->set, &keys[i], out);
		}
	}
	fputc('\n', out);
}

const char *vportx_policy_entry(const struct vportx_policy *p, size_t i,
				const char **where,
				const struct vportx_settings **set)
{
	if (!p || i >= p->n)
		return NULL;
	*where = p->v[i]->where;
	*set = &p->v[i]->set;
	return p->v[i]->pattern;
}

void vportx_policy_dump(const struct vportx_policy *p, FILE *out)
{
	size_t i;

	for (i = 0; p && i < p->n; i++)
		dump_entry(p->v[i], out);
}
