// SPDX-License-Identifier: GPL-2.0
/*
 * The host peer of the vportx test rig.
 *
 * It serves the host side of every virtio-serial port the rig gives the guest,
 * obeys the control protocol of Documentation/rig.rst on the port with id
 * vportx.ctl and drives QMP for hot-plug.
 *
 * Usage: peer -c PEERCONF -q QMPSOCK [-t TIMEOUT_S] [-l LOGFILE]
 *
 * One thread, one poll() loop, every socket non-blocking: the guest starts
 * many jobs at once and collects them with wait, so no port, no QMP command
 * and no parked request may ever hold up the others.
 *
 * Exit status: 0 when the control port reaches EOF (QEMU is gone), 2 on a
 * setup error, 3 when the overall timeout expires.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <linux/sockios.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define CTL_ID		"vportx.ctl"
#define QMP_ID		"QMP"
#define ID_MAX		64
#define MAX_PORTS	128
#define MAX_VSERS	256
#define BUF_SIZE	(64 * 1024)
#define REQ_MAX		512	/* longest control request kept */
#define REPLY_MAX	320	/* longest reply, with its newline */
#define QMP_CMD_MAX	2048
#define UDP_MAX		1024	/* largest datagram the peer sends */
#define SOURCE_CHUNKS	16	/* pattern buffers written per wake-up */
#define HEARD_CHUNK	56	/* bytes of a heard line per reply: 4x escaped */
#define RETRY_MS	50
#define START_MS	10000	/* connecting at start-up */
#define HANDSHAKE_MS	1000	/* QMP greeting after a late connect */
#define CONNECT_MS	5000	/* connecting on request */
#define UNPLUG_MS	10000	/* waiting for DEVICE_DELETED */
#define TIMEOUT_S	1800

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

/* A byte queue: data[head..len) is pending. */
struct buf {
	char *data;
	size_t head;
	size_t len;
};

enum backend { BE_UNIX, BE_TCP, BE_UDP };

enum link { LINK_DOWN, LINK_RETRY, LINK_CONNECTING, LINK_UP };

enum job_kind { JOB_NONE, JOB_SOURCE, JOB_SINK, JOB_ECHO, JOB_TALK };

struct job {
	enum job_kind kind;
	bool done;
	uint64_t nbytes;
	uint64_t seed;
	uint64_t made;		/* source: pattern bytes generated so far */
	uint64_t pos;		/* sink: bytes received so far */
	uint64_t hash;
	int64_t bad;
	char result[128];	/* what wait answers once done */
};

struct port {
	char id[ID_MAX];
	enum backend be;
	struct sockaddr_storage addr;	/* QEMU's end */
	socklen_t addr_len;
	struct sockaddr_in local;	/* udp only: the peer's end */
	int fd;
	enum link link;
	int last_err;		/* why the last connect attempt failed */
	uint64_t retry_at;
	uint64_t deadline;	/* connecting gives up then */
	bool is_ctl;
	bool is_qmp;
	bool late;		/* connected on request only, never at start */
	bool deleted;		/* QEMU reported DEVICE_DELETED for it */
	bool dead;		/* unplugged: freed at the end of the pass */
	uint64_t rx;
	uint64_t tx;
	struct job job;
	struct buf in;		/* ctl and QMP: partial lines */
	struct buf out;		/* replies, echoed bytes or a pattern chunk */
};

enum qmp_state { QMP_DOWN, QMP_GREETING, QMP_CAPS, QMP_READY, QMP_LOST };

/* The one QMP command in flight and how it ended. */
struct qmp_cmd {
	bool busy;
	bool failed;
	char desc[REPLY_MAX];
};

enum pend_kind { PEND_NONE, PEND_WAIT, PEND_CONNECT, PEND_HOTPLUG, PEND_UNPLUG };

enum pend_step {
	STEP_CHARDEV_ADD,
	STEP_DEVICE_ADD,
	STEP_CLEANUP,
	STEP_CONNECT,
	STEP_DEVICE_DEL,
	STEP_DELETED,
	STEP_CHARDEV_REMOVE,
};

/*
 * The control request whose reply is parked. Replies go out in request
 * order, so no further request is read while one is parked.
 */
struct pending {
	enum pend_kind kind;
	enum pend_step step;
	struct port *port;
	uint64_t deadline;
	char name[ID_MAX];	/* hotplug: the port name, "-" for none */
	unsigned int device;
	unsigned int nr;
	char why[REPLY_MAX];	/* hotplug: the error to report after cleanup */
};

/* The last VSERPORT_CHANGE QEMU reported for a device id. */
struct vser {
	char id[ID_MAX];
	bool open;
};

typedef void (*command_fn)(char **argv);

struct command {
	const char *name;
	const char *args;	/* the usage after the name */
	int argc;		/* words, the name included */
	command_fn run;
};

static struct port *ports[MAX_PORTS];
static size_t nports;
static struct port *ctl;
static struct port *qmp;
static enum qmp_state qmp_state;
static struct qmp_cmd qmp_cmd;
static struct pending pend;
static struct vser vsers[MAX_VSERS];
static size_t nvsers;
static char qmp_dir[PATH_MAX];
static bool starting = true;
static uint64_t t_start;
static uint64_t t_end;
static unsigned long timeout_s = TIMEOUT_S;
static FILE *log_file;
static char scratch[BUF_SIZE];
static struct pollfd pfds[MAX_PORTS];
static struct port *polled[MAX_PORTS];

static void port_lost(struct port *p, const char *why);
static void pending_check(void);

/* ---- time, logging, errors ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vlogmsg(const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(log_file, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min,
		tm.tm_sec, ts.tv_nsec / 1000000);
	vfprintf(log_file, fmt, ap);
	fputc('\n', log_file);
}

static void __printf(1, 2) logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogmsg(fmt, ap);
	va_end(ap);
}

/* Errors go to stderr as "peer: what: why", and to the log as well. */
static void __printf(2, 0) verror(const char *what, const char *fmt, va_list ap)
{
	char why[512];

	vsnprintf(why, sizeof(why), fmt, ap);
	fprintf(stderr, "peer: %s: %s\n", what, why);
	if (log_file && log_file != stderr)
		logmsg("peer: %s: %s", what, why);
}

static void __printf(2, 3) error_msg(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(what, fmt, ap);
	va_end(ap);
}

static void __noreturn __printf(3, 4)
die(int code, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(what, fmt, ap);
	va_end(ap);
	exit(code);
}

static void __noreturn usage(void)
{
	die(2, "usage", "peer -c PEERCONF -q QMPSOCK [-t TIMEOUT_S] [-l LOGFILE]");
}

/* ---- byte queues ---- */

static size_t buf_used(const struct buf *b)
{
	return b->len - b->head;
}

static void buf_clear(struct buf *b)
{
	b->head = 0;
	b->len = 0;
}

/* Free space at the end, after moving pending bytes to the front. */
static size_t buf_make_room(struct buf *b)
{
	size_t used = buf_used(b);

	if (b->head && b->len == BUF_SIZE) {
		memmove(b->data, b->data + b->head, used);
		b->head = 0;
		b->len = used;
	} else if (!used) {
		buf_clear(b);
	}
	return BUF_SIZE - b->len;
}

static bool buf_append(struct buf *b, const void *data, size_t n)
{
	if (buf_make_room(b) < n)
		return false;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return true;
}

/* Move the next complete line, without its "\r\n", into line. */
static bool buf_line(struct buf *b, char *line, size_t size)
{
	char *s = b->data + b->head;
	char *nl = memchr(s, '\n', buf_used(b));
	size_t n;

	if (!nl)
		return false;
	n = nl - s;
	b->head += n + 1;
	if (n && s[n - 1] == '\r')
		n--;
	if (n >= size)
		n = size - 1;	/* an over-long request fails to parse */
	memcpy(line, s, n);
	line[n] = '\0';
	return true;
}

/* ---- parsing helpers ---- */

/* Split s into at most max words; max + 1 means there were more. */
static int split(char *s, char **words, int max)
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
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_inet_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!parse_u64(s, &v) || !v || v > 65535)
		return false;
	*port = v;
	return true;
}

/* ---- minimal JSON scanning, enough for QMP's replies and events ---- */

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
static const char *json_member(const char *obj, const char *key)
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
static bool json_string(const char *v, char *out, size_t size)
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

static bool json_true(const char *v)
{
	return v && !strncmp(v, "true", 4);
}

/* Escape src as the inside of a JSON string. */
static void json_escape(char *dst, size_t size, const char *src)
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

/* ---- the port table ---- */

static struct port *port_new(const char *id, enum backend be)
{
	struct port *p = calloc(1, sizeof(*p));

	if (p) {
		p->in.data = malloc(BUF_SIZE);
		p->out.data = malloc(BUF_SIZE);
	}
	if (!p || !p->in.data || !p->out.data)
		die(2, "memory", "%s", strerror(ENOMEM));
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->be = be;
	p->fd = -1;
	p->is_ctl = !strcmp(id, CTL_ID);
	return p;
}

static void port_free(struct port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->in.data);
	free(p->out.data);
	free(p);
}

/* Ports the control protocol can name: QMP's connection is not one. */
static struct port *port_find(const char *id)
{
	size_t i;

	for (i = 0; i < nports; i++)
		if (!ports[i]->is_qmp && !ports[i]->dead &&
		    !strcmp(ports[i]->id, id))
			return ports[i];
	return NULL;
}

static bool port_add(struct port *p)
{
	if (nports == MAX_PORTS || (!p->is_qmp && port_find(p->id)))
		return false;
	ports[nports++] = p;
	if (p->is_ctl)
		ctl = p;
	return true;
}

/* Unplugged ports go only here, where nothing holds a pointer to them. */
static void ports_reap(void)
{
	size_t i, kept = 0;

	for (i = 0; i < nports; i++) {
		if (ports[i]->dead)
			port_free(ports[i]);
		else
			ports[kept++] = ports[i];
	}
	nports = kept;
}

static bool addr_unix(struct port *p, const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&p->addr;

	if (strlen(path) >= sizeof(sun->sun_path))
		return false;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	p->addr_len = sizeof(*sun);
	return true;
}

static void addr_loopback(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static struct port *port_inet(const char *id, enum backend be, uint16_t port)
{
	struct port *p = port_new(id, be);

	addr_loopback((struct sockaddr_in *)&p->addr, port);
	p->addr_len = sizeof(struct sockaddr_in);
	return p;
}

/* ---- the peer's configuration ---- */

/* One "ID unix PATH", "ID tcp PORT" or "ID udp PEERPORT QEMUPORT" line. */
static struct port *conf_port(char **w, int n)
{
	struct port *p = NULL;
	uint16_t a, b;

	if (n == 3 && !strcmp(w[1], "unix")) {
		p = port_new(w[0], BE_UNIX);
		if (!addr_unix(p, w[2]))
			return NULL;
	} else if (n == 3 && !strcmp(w[1], "tcp") &&
		   parse_inet_port(w[2], &a)) {
		p = port_inet(w[0], BE_TCP, a);
	} else if (n == 4 && !strcmp(w[1], "udp") &&
		   parse_inet_port(w[2], &a) && parse_inet_port(w[3], &b)) {
		p = port_inet(w[0], BE_UDP, b);
		addr_loopback(&p->local, a);
	}
	if (p && strlen(w[0]) >= ID_MAX)
		return NULL;
	return p;
}

static void conf_line(char *line, const char *path, int lineno)
{
	char where[PATH_MAX + 16];
	struct port *p;
	char *w[6];
	bool late;
	int n;

	line[strcspn(line, "#")] = '\0';
	n = split(line, w, 5);
	if (!n)
		return;
	snprintf(where, sizeof(where), "%s:%d", path, lineno);
	late = n > 2 && !strcmp(w[n - 1], "late");
	p = conf_port(w, n - late);
	if (!p)
		die(2, where, "expected ID unix PATH, ID tcp PORT or ID udp PEERPORT QEMUPORT, then optionally late");
	if (late && p->be == BE_UDP)
		die(2, where, "a udp port cannot be late");
	p->late = late;
	if (!port_add(p))
		die(2, where, "duplicate port %s or too many ports", p->id);
}

static void conf_load(const char *path)
{
	char line[1024];
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die(2, path, "%s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		conf_line(line, path, ++lineno);
	fclose(f);
	if (!ctl)
		die(2, path, "no %s port", CTL_ID);
}

static void qmp_setup(const char *path)
{
	char *slash;

	qmp = port_new(QMP_ID, BE_UNIX);
	qmp->is_qmp = true;
	if (!addr_unix(qmp, path) || !port_add(qmp))
		die(2, path, "QMP socket path too long");
	/* Hot-plugged ports' sockets go beside QMP's, in the run's directory. */
	snprintf(qmp_dir, sizeof(qmp_dir), "%s", path);
	slash = strrchr(qmp_dir, '/');
	if (!slash)
		strcpy(qmp_dir, ".");
	else if (slash == qmp_dir)
		strcpy(qmp_dir, "/");
	else
		*slash = '\0';
}

/* ---- connecting ---- */

static void port_close(struct port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void port_up(struct port *p)
{
	int one = 1;

	p->link = LINK_UP;
	/* Control replies are small: don't let Nagle sit on them. */
	if (p->be == BE_TCP)
		setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (p->is_qmp)
		qmp_state = QMP_GREETING;
	logmsg("%s: connected", p->id);
}

/* Retry every RETRY_MS until the deadline: QEMU may not be listening yet. */
static void connect_failed(struct port *p, int err)
{
	uint64_t now = now_ms();

	p->last_err = err;
	if (now + RETRY_MS <= p->deadline) {
		p->link = LINK_RETRY;
		p->retry_at = now + RETRY_MS;
		return;
	}
	p->link = LINK_DOWN;
	if (starting)
		die(2, p->id, "connect: %s", strerror(err));
	error_msg(p->id, "connect: %s", strerror(err));
}

static void port_connect_try(struct port *p)
{
	int fd = socket(p->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0) {
		connect_failed(p, errno);
		return;
	}
	p->fd = fd;
	if (!connect(fd, (struct sockaddr *)&p->addr, p->addr_len)) {
		port_up(p);
	} else if (errno == EINPROGRESS) {
		p->link = LINK_CONNECTING;
	} else {
		err = errno;
		port_close(p);
		connect_failed(p, err);
	}
}

static void port_connect_start(struct port *p, uint64_t ms)
{
	port_close(p);
	p->deadline = now_ms() + ms;
	p->last_err = 0;
	port_connect_try(p);
}

/* A non-blocking connect ended, one way or the other. */
static void port_connect_done(struct port *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err) {
		port_up(p);
		return;
	}
	port_close(p);
	connect_failed(p, err);
}

static void udp_open(struct port *p)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&p->local, sizeof(p->local)) < 0 ||
	    connect(fd, (struct sockaddr *)&p->addr, p->addr_len) < 0)
		die(2, p->id, "udp: %s", strerror(errno));
	p->fd = fd;
	p->link = LINK_UP;
}

static void port_timer(struct port *p, uint64_t now)
{
	if (p->link == LINK_RETRY && now >= p->retry_at) {
		port_connect_try(p);
	} else if (p->link == LINK_CONNECTING && now >= p->deadline) {
		port_close(p);
		connect_failed(p, ETIMEDOUT);
	}
}

static uint64_t port_wakeup(const struct port *p)
{
	if (p->link == LINK_RETRY)
		return p->retry_at;
	if (p->link == LINK_CONNECTING)
		return p->deadline;
	return UINT64_MAX;
}

/* ---- jobs ---- */

static bool job_running(const struct port *p)
{
	return p->job.kind != JOB_NONE && !p->job.done;
}

static void __printf(2, 3) job_finish(struct port *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->job.result, sizeof(p->job.result), fmt, ap);
	va_end(ap);
	p->job.done = true;
	logmsg("%s: job done: %s", p->id, p->job.result);
}

static void job_fail(struct port *p, const char *why)
{
	if (job_running(p))
		job_finish(p, "%s", why);
}

/* Finish the job once its last byte went out or came in. */
static void job_progress(struct port *p)
{
	struct job *j = &p->job;

	if (j->done)
		return;
	if (j->kind == JOB_SOURCE && j->made == j->nbytes &&
	    !buf_used(&p->out))
		job_finish(p, "ok sent %" PRIu64, j->nbytes);
	else if (j->kind == JOB_SINK && j->pos == j->nbytes)
		job_finish(p, "ok received %" PRIu64 " %016" PRIx64 " %" PRId64,
			   j->nbytes, j->hash, j->bad);
}

static void job_start(struct port *p, enum job_kind kind, uint64_t nbytes,
		      uint64_t seed)
{
	memset(&p->job, 0, sizeof(p->job));
	p->job.kind = kind;
	p->job.nbytes = nbytes;
	p->job.seed = seed;
	p->job.hash = FNV64_INIT;
	p->job.bad = -1;
	logmsg("%s: job started", p->id);
	job_progress(p);
}

/* reset: bytes not yet read stay in the socket for whoever comes next. */
static void job_stop(struct port *p)
{
	memset(&p->job, 0, sizeof(p->job));
	buf_clear(&p->out);
	p->rx = 0;
	p->tx = 0;
}

/* ---- moving bytes ---- */

static bool send_failed(struct port *p, int err)
{
	/* A refused udp datagram only means QEMU is not bound yet: resend. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    (p->be == BE_UDP && err == ECONNREFUSED))
		return false;
	error_msg(p->id, "send: %s", strerror(err));
	port_lost(p, strerror(err));
	return false;
}

/* Write what the socket takes; true once nothing is left queued. */
static bool port_flush(struct port *p)
{
	size_t n;
	ssize_t w;

	while ((n = buf_used(&p->out))) {
		if (p->be == BE_UDP && n > UDP_MAX)
			n = UDP_MAX;
		w = send(p->fd, p->out.data + p->out.head, n, MSG_NOSIGNAL);
		if (w < 0)
			return send_failed(p, errno);
		p->out.head += w;
		p->tx += w;
	}
	return true;
}

/* Queue the next chunk of pattern; false once all of it was queued. */
static bool source_refill(struct port *p)
{
	struct job *j = &p->job;
	uint64_t left = j->nbytes - j->made;
	size_t n = left < BUF_SIZE ? left : BUF_SIZE;

	if (!n)
		return false;
	pattern_fill(p->out.data, n, j->seed, j->made);
	p->out.head = 0;
	p->out.len = n;
	j->made += n;
	return true;
}

/* Bounded per wake-up so one fast port does not starve the others. */
static void source_pump(struct port *p)
{
	int i;

	for (i = 0; i < SOURCE_CHUNKS && p->link == LINK_UP; i++) {
		if (!buf_used(&p->out) && !source_refill(p))
			break;
		if (!port_flush(p))
			break;
	}
	job_progress(p);
}

static void port_writable(struct port *p)
{
	if (p->job.kind == JOB_SOURCE && !p->job.done)
		source_pump(p);
	else
		port_flush(p);
}

/* How many bytes the port's job takes now; 0 leaves them in the socket. */
static size_t data_want(struct port *p)
{
	struct job *j = &p->job;
	uint64_t left = j->nbytes - j->pos;

	if (!job_running(p) || p->link != LINK_UP)
		return 0;
	if (j->kind == JOB_SINK)
		return left < BUF_SIZE ? left : BUF_SIZE;
	if (j->kind == JOB_TALK)
		return buf_make_room(&p->in);
	if (j->kind != JOB_ECHO)
		return 0;
	/* A datagram cannot be read in part: wait until all of out is free. */
	if (p->be == BE_UDP && buf_used(&p->out))
		return 0;
	return buf_make_room(&p->out);
}

static void sink_feed(struct port *p, const char *data, size_t n)
{
	struct job *j = &p->job;
	int64_t bad;

	if (j->bad < 0) {
		bad = pattern_check(data, n, j->seed, j->pos);
		if (bad >= 0)
			j->bad = j->pos + bad;
	}
	j->hash = fnv64_update(j->hash, data, n);
	j->pos += n;
	job_progress(p);
}

static void echo_feed(struct port *p, const char *data, size_t n)
{
	buf_append(&p->out, data, n);
	port_flush(p);
}

/* talk: collect the answer up to its newline, which ends the job. */
static void talk_feed(struct port *p, const char *data, size_t n)
{
	const char *line;
	size_t len;

	buf_append(&p->in, data, n);
	line = p->in.data + p->in.head;
	len = buf_used(&p->in);
	if (memchr(data, '\n', n)) {
		len = (const char *)memchr(line, '\n', len) - line;
		job_finish(p, "ok heard %zu %016" PRIx64, len,
			   fnv64_update(FNV64_INIT, line, len));
	} else if (!buf_make_room(&p->in)) {
		job_finish(p, "err no newline in %zu bytes", len);
	}
}

/* recv() gave n <= 0 on a stream, or n < 0 on udp. */
static void recv_ended(struct port *p, ssize_t n)
{
	int err = errno;

	if (!n) {
		port_lost(p, "EOF");
		return;
	}
	/* A refused udp datagram only means QEMU is not bound yet. */
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    (p->be == BE_UDP && err == ECONNREFUSED))
		return;
	error_msg(p->id, "recv: %s", strerror(err));
	port_lost(p, strerror(err));
}

static void data_read(struct port *p, short revents)
{
	size_t want = data_want(p);
	ssize_t n;

	if (!want) {
		if (revents & (POLLHUP | POLLRDHUP | POLLERR))
			port_lost(p, "hang-up");
		return;
	}
	/* udp: take the whole datagram, keep what the job wants. */
	n = recv(p->fd, scratch, p->be == BE_UDP ? sizeof(scratch) : want, 0);
	if (n < 0 || (!n && p->be != BE_UDP)) {
		recv_ended(p, n);
		return;
	}
	if ((size_t)n > want) {
		logmsg("%s: dropped %zu bytes of a datagram", p->id, n - want);
		n = want;
	}
	p->rx += n;
	if (p->job.kind == JOB_SINK)
		sink_feed(p, scratch, n);
	else if (p->job.kind == JOB_TALK)
		talk_feed(p, scratch, n);
	else
		echo_feed(p, scratch, n);
}

/* ---- line ports: control and QMP ---- */

static size_t line_room(struct port *p)
{
	size_t room = buf_make_room(&p->in);

	/* A full buffer without a newline can never become a line. */
	if (!room && !memchr(p->in.data + p->in.head, '\n', buf_used(&p->in))) {
		logmsg("%s: line too long, dropped", p->id);
		buf_clear(&p->in);
		room = BUF_SIZE;
	}
	return room;
}

static void line_read(struct port *p)
{
	size_t room = line_room(p);
	ssize_t n;

	if (!room)
		return;
	n = recv(p->fd, p->in.data + p->in.len, room, 0);
	if (n < 0 || (!n && p->be != BE_UDP)) {
		recv_ended(p, n);
		return;
	}
	p->in.len += n;
	p->rx += n;
}

/* ---- QMP ---- */

static void qmp_lost(void)
{
	qmp_state = QMP_LOST;
	if (starting)
		die(2, "QMP", "connection lost during set-up");
	/* QEMU powering off closes QMP before the control port: not news. */
	logmsg("QMP: connection lost");
	if (qmp_cmd.busy) {
		qmp_cmd.busy = false;
		qmp_cmd.failed = true;
		snprintf(qmp_cmd.desc, sizeof(qmp_cmd.desc), "QMP connection lost");
	}
}

static void qmp_write(const char *json)
{
	logmsg("qmp> %s", json);
	if (!buf_append(&qmp->out, json, strlen(json)) ||
	    !buf_append(&qmp->out, "\n", 1))
		logmsg("QMP: output full, command dropped");
	port_flush(qmp);
}

/* Issue one command; its reply lands in qmp_cmd. */
static void __printf(1, 2) qmp_send(const char *fmt, ...)
{
	char json[QMP_CMD_MAX];
	va_list ap;

	qmp_cmd.failed = false;
	if (qmp_state != QMP_READY) {
		qmp_cmd.failed = true;
		snprintf(qmp_cmd.desc, sizeof(qmp_cmd.desc), "QMP is not available");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	qmp_cmd.busy = true;
	qmp_write(json);
}

static void qmp_error_desc(const char *line, char *desc, size_t size)
{
	const char *d = json_member(json_member(line, "error"), "desc");

	if (!json_string(d, desc, size))
		snprintf(desc, size, "unknown QMP error");
}

static void vser_set(const char *id, bool open)
{
	size_t i;

	for (i = 0; i < nvsers && strcmp(vsers[i].id, id); i++)
		;
	if (i == MAX_VSERS) {
		logmsg("QMP: too many serial ports to track %s", id);
		return;
	}
	if (i == nvsers)
		snprintf(vsers[nvsers++].id, ID_MAX, "%s", id);
	vsers[i].open = open;
}

static void qmp_event(const char *line, const char *event)
{
	const char *data = json_member(line, "data");
	char name[64], id[ID_MAX];
	struct port *p;

	if (!json_string(event, name, sizeof(name)))
		return;
	if (!strcmp(name, "VSERPORT_CHANGE") &&
	    json_string(json_member(data, "id"), id, sizeof(id))) {
		vser_set(id, json_true(json_member(data, "open")));
	} else if (!strcmp(name, "DEVICE_DELETED") &&
		   json_string(json_member(data, "device"), id, sizeof(id))) {
		p = port_find(id);
		if (p)
			p->deleted = true;
	}
}

static void qmp_reply(const char *line)
{
	if (!qmp_cmd.busy) {
		logmsg("QMP: reply to no command");
		return;
	}
	qmp_cmd.busy = false;
	qmp_cmd.failed = !json_member(line, "return");
	if (qmp_cmd.failed)
		qmp_error_desc(line, qmp_cmd.desc, sizeof(qmp_cmd.desc));
}

static void qmp_line(const char *line)
{
	const char *event = json_member(line, "event");
	char desc[REPLY_MAX];

	logmsg("qmp< %s", line);
	if (qmp_state == QMP_GREETING) {
		if (!json_member(line, "QMP"))
			die(2, "QMP", "no greeting");
		qmp_write("{\"execute\":\"qmp_capabilities\"}");
		qmp_state = QMP_CAPS;
	} else if (event) {
		qmp_event(line, event);
	} else if (qmp_state == QMP_CAPS) {
		if (!json_member(line, "return")) {
			qmp_error_desc(line, desc, sizeof(desc));
			die(2, "qmp_capabilities", "%s", desc);
		}
		qmp_state = QMP_READY;
	} else {
		qmp_reply(line);
	}
}

static void qmp_lines(void)
{
	static char line[BUF_SIZE];

	while (qmp->link == LINK_UP && buf_line(&qmp->in, line, sizeof(line)))
		qmp_line(line);
}

static void qmp_chardev_add(const struct port *p)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&p->addr;
	char id[ID_MAX * 6], path[sizeof(sun->sun_path) * 6];

	json_escape(id, sizeof(id), p->id);
	json_escape(path, sizeof(path), sun->sun_path);
	qmp_send("{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"%s\","
		 "\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":"
		 "{\"type\":\"unix\",\"data\":{\"path\":\"%s\"}},"
		 "\"server\":true,\"wait\":false}}}}", id, path);
}

static void qmp_device_add(void)
{
	char id[ID_MAX * 6], name[ID_MAX * 6], name_arg[ID_MAX * 6 + 16] = "";

	json_escape(id, sizeof(id), pend.port->id);
	json_escape(name, sizeof(name), pend.name);
	if (strcmp(pend.name, "-"))
		snprintf(name_arg, sizeof(name_arg), ",\"name\":\"%s\"", name);
	qmp_send("{\"execute\":\"device_add\",\"arguments\":{"
		 "\"driver\":\"virtserialport\",\"bus\":\"vser%u.0\",\"nr\":%u,"
		 "\"chardev\":\"%s\",\"id\":\"%s\"%s}}",
		 pend.device, pend.nr, id, id, name_arg);
}

/* device_del and chardev-remove: a command whose only argument is id. */
static void qmp_by_id(const char *command, const char *id)
{
	char eid[ID_MAX * 6];

	json_escape(eid, sizeof(eid), id);
	qmp_send("{\"execute\":\"%s\",\"arguments\":{\"id\":\"%s\"}}",
		 command, eid);
}

/* ---- losing and dropping the host side ---- */

static void port_lost(struct port *p, const char *why)
{
	logmsg("%s: lost: %s", p->id, why);
	if (p->is_ctl) {
		logmsg("control port closed: exiting");
		exit(0);
	}
	/* The socket stays open until disconnect, connect or exit. */
	p->link = LINK_DOWN;
	if (p->is_qmp)
		qmp_lost();
	job_fail(p, "err disconnected");
}

/* udp has no connection: "disconnected" only means the peer stops using it. */
static void port_disconnect(struct port *p)
{
	if (p->be != BE_UDP)
		port_close(p);
	p->link = LINK_DOWN;
	buf_clear(&p->out);
	job_fail(p, "err disconnected");
	logmsg("%s: disconnected", p->id);
}

/* ---- replies ---- */

static void vreply(const char *fmt, va_list ap)
{
	char line[REPLY_MAX];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0)
		n = snprintf(line, sizeof(line) - 1, "err internal");
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	logmsg("> %s", line);
	line[n++] = '\n';
	if (!buf_append(&ctl->out, line, n))
		logmsg("control output full, reply dropped");
	port_flush(ctl);
}

static void __printf(1, 2) reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(fmt, ap);
	va_end(ap);
}

/* Answer the parked request, which lets the next one in. */
static void __printf(1, 2) pending_reply(const char *fmt, ...)
{
	va_list ap;

	pend.kind = PEND_NONE;
	va_start(ap, fmt);
	vreply(fmt, ap);
	va_end(ap);
}

static void park(enum pend_kind kind, struct port *p, uint64_t deadline)
{
	memset(&pend, 0, sizeof(pend));
	pend.kind = kind;
	pend.port = p;
	pend.deadline = deadline;
}

/* ---- parked requests ---- */

static void wait_check(void)
{
	struct port *p = pend.port;

	if (p->job.done)
		pending_reply("%s", p->job.result);
	else if (now_ms() >= pend.deadline)
		pending_reply("err timeout");
}

static void connect_check(void)
{
	struct port *p = pend.port;

	if (p->link == LINK_UP)
		pending_reply("ok");
	else if (p->link == LINK_DOWN)
		pending_reply("err connect %s: %s", p->id, strerror(p->last_err));
}

static void hotplug_chardev_added(void)
{
	if (qmp_cmd.failed) {
		pend.port->dead = true;
		pending_reply("err %s", qmp_cmd.desc);
		return;
	}
	qmp_device_add();
	pend.step = STEP_DEVICE_ADD;
}

static void hotplug_device_added(void)
{
	if (qmp_cmd.failed) {
		/* Leave no chardev behind, so the same ID can be plugged again. */
		snprintf(pend.why, sizeof(pend.why), "%s", qmp_cmd.desc);
		qmp_by_id("chardev-remove", pend.port->id);
		pend.step = STEP_CLEANUP;
		return;
	}
	port_connect_start(pend.port, CONNECT_MS);
	pend.step = STEP_CONNECT;
	connect_check();
}

static void hotplug_check(void)
{
	if (qmp_cmd.busy)
		return;
	switch (pend.step) {
	case STEP_CHARDEV_ADD:
		hotplug_chardev_added();
		break;
	case STEP_DEVICE_ADD:
		hotplug_device_added();
		break;
	case STEP_CLEANUP:
		pend.port->dead = true;
		pending_reply("err %s", pend.why);
		break;
	default:
		connect_check();
		break;
	}
}

static void unplug_wait_deleted(void)
{
	struct port *p = pend.port;

	if (!p->deleted) {
		if (now_ms() >= pend.deadline)
			pending_reply("err %s: no DEVICE_DELETED", p->id);
		return;
	}
	/* The device is gone: closing can no longer cost the guest bytes. */
	port_disconnect(p);
	qmp_by_id("chardev-remove", p->id);
	pend.step = STEP_CHARDEV_REMOVE;
}

static void unplug_device_deleting(void)
{
	if (qmp_cmd.failed) {
		pending_reply("err %s", qmp_cmd.desc);
		return;
	}
	pend.step = STEP_DELETED;
	pend.deadline = now_ms() + UNPLUG_MS;
	unplug_wait_deleted();
}

static void unplug_check(void)
{
	if (qmp_cmd.busy)
		return;
	if (pend.step == STEP_DEVICE_DEL) {
		unplug_device_deleting();
	} else if (pend.step == STEP_DELETED) {
		unplug_wait_deleted();
	} else {
		pend.port->dead = true;
		if (qmp_cmd.failed)
			pending_reply("err %s", qmp_cmd.desc);
		else
			pending_reply("ok");
	}
}

static void pending_check(void)
{
	switch (pend.kind) {
	case PEND_WAIT:
		wait_check();
		break;
	case PEND_CONNECT:
		connect_check();
		break;
	case PEND_HOTPLUG:
		hotplug_check();
		break;
	case PEND_UNPLUG:
		unplug_check();
		break;
	default:
		break;
	}
}

/* ---- request arguments ---- */

/* The port a request names, or NULL after replying why not. */
static struct port *arg_port(const char *id, bool data_only)
{
	struct port *p = port_find(id);

	if (!p)
		reply("err no such port %s", id);
	else if (data_only && p->is_ctl)
		reply("err %s is the control port", id);
	else
		return p;
	return NULL;
}

/* A port free for a new job, or NULL after replying why not. */
static struct port *arg_job_port(const char *id)
{
	struct port *p = arg_port(id, true);

	if (!p)
		return NULL;
	if (p->link != LINK_UP)
		reply("err %s is not connected", id);
	else if (job_running(p))
		reply("err %s is busy", id);
	else
		return p;
	return NULL;
}

static bool arg_u64(const char *s, const char *what, uint64_t *v)
{
	if (parse_u64(s, v))
		return true;
	reply("err bad %s %s", what, s);
	return false;
}

static bool qmp_ready(void)
{
	if (qmp_state == QMP_READY)
		return true;
	reply("err QMP is not available");
	return false;
}

/* ---- requests ---- */

static void cmd_ping(char **argv)
{
	(void)argv;
	reply("ok pong");
}

static void cmd_job(char **argv, enum job_kind kind)
{
	uint64_t nbytes, seed;
	struct port *p;

	if (!arg_u64(argv[2], "NBYTES", &nbytes) ||
	    !arg_u64(argv[3], "SEED", &seed))
		return;
	p = arg_job_port(argv[1]);
	if (!p)
		return;
	job_start(p, kind, nbytes, seed);
	reply("ok");
}

static void cmd_source(char **argv)
{
	cmd_job(argv, JOB_SOURCE);
}

static void cmd_sink(char **argv)
{
	cmd_job(argv, JOB_SINK);
}

static void cmd_echo(char **argv)
{
	struct port *p = arg_job_port(argv[1]);

	if (!p)
		return;
	job_start(p, JOB_ECHO, 0, 0);
	reply("ok");
}

/* Decode TEXT's \xHH escapes (and \\) in place: the byte count. */
static size_t unescape(char *s)
{
	char *start = s, *out = s, hex[3] = { 0 };

	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			memcpy(hex, s + 2, 2);
			*out++ = (char)strtoul(hex, NULL, 16);
			s += 4;
		} else if (s[0] == '\\' && s[1] == '\\') {
			*out++ = '\\';
			s += 2;
		} else {
			*out++ = *s++;
		}
	}
	return out - start;
}

/*
 * talk ID TEXT: send TEXT, its \xHH escapes decoded, and a newline; then
 * collect what the port answers up to its first newline. `wait` says
 * "ok heard LEN HASH", `heard ID OFF` gives the line piece by piece.
 */
static void cmd_talk(char *line)
{
	char *id = line + strspn(line, " "), *text;
	size_t n;
	struct port *p;

	text = id + strcspn(id, " ");
	if (*text)
		*text++ = '\0';
	p = arg_job_port(id);
	if (!p)
		return;
	n = unescape(text);
	job_start(p, JOB_TALK, 0, 0);
	buf_clear(&p->in);
	if (!buf_append(&p->out, text, n) || !buf_append(&p->out, "\n", 1)) {
		job_fail(p, "err request too long");
		reply("err request too long");
		return;
	}
	port_flush(p);
	reply("ok");
}

/* heard ID OFF: up to HEARD_CHUNK bytes of the line from OFF, escaped. */
static void cmd_heard(char **argv)
{
	struct port *p = arg_port(argv[1], true);
	char out[HEARD_CHUNK * 4 + 1], *o = out;
	const unsigned char *line;
	uint64_t off, len, i;

	if (!p || !arg_u64(argv[2], "OFF", &off))
		return;
	if (p->job.kind != JOB_TALK || !p->job.done ||
	    sscanf(p->job.result, "ok heard %" SCNu64, &len) != 1) {
		reply("err nothing heard on %s", p->id);
		return;
	}
	line = (const unsigned char *)p->in.data + p->in.head;
	for (i = off; i < len && i < off + HEARD_CHUNK; i++) {
		if (line[i] >= 0x20 && line[i] < 0x7f && line[i] != '\\')
			*o++ = line[i];
		else
			o += sprintf(o, "\\x%02x", line[i]);
	}
	*o = '\0';
	reply("ok %s", out);
}

static void cmd_reset(char **argv)
{
	struct port *p = arg_port(argv[1], true);

	if (!p)
		return;
	job_stop(p);
	reply("ok");
}

static void cmd_wait(char **argv)
{
	struct port *p = arg_port(argv[1], true);
	uint64_t ms;

	if (!p || !arg_u64(argv[2], "MS", &ms))
		return;
	if (p->job.kind == JOB_NONE) {
		reply("err no job on %s", p->id);
		return;
	}
	if (ms > UINT64_MAX / 2)
		ms = UINT64_MAX / 2;
	park(PEND_WAIT, p, now_ms() + ms);
}

static void cmd_disconnect(char **argv)
{
	struct port *p = arg_port(argv[1], true);

	if (!p)
		return;
	port_disconnect(p);
	reply("ok");
}

static void cmd_connect(char **argv)
{
	struct port *p = arg_port(argv[1], true);

	if (!p)
		return;
	/* udp: connecting only resumes using the socket (port_disconnect()). */
	if (p->be == BE_UDP && p->link == LINK_DOWN) {
		p->link = LINK_UP;
		logmsg("%s: connected", p->id);
	}
	if (p->link != LINK_UP)
		port_connect_start(p, CONNECT_MS);
	park(PEND_CONNECT, p, UINT64_MAX);
}

/*
 * Bytes written to QEMU's socket that QEMU has not read yet. QEMU reads a
 * port's socket only while the guest has buffers for it, so 0 after a
 * finished source means every byte reached the guest's virtqueue.
 */
static int sock_unread(const struct port *p)
{
	int n;

	if (p->fd < 0 || ioctl(p->fd, SIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

static void cmd_stats(char **argv)
{
	struct port *p = arg_port(argv[1], false);

	if (p)
		reply("ok connected=%d rx=%" PRIu64 " tx=%" PRIu64 " unread=%d",
		      p->link == LINK_UP, p->rx, p->tx, sock_unread(p));
}

static void cmd_vserport(char **argv)
{
	size_t i;

	for (i = 0; i < nvsers; i++) {
		if (!strcmp(vsers[i].id, argv[1])) {
			reply("ok open=%d", vsers[i].open);
			return;
		}
	}
	reply("ok none");
}

/* The new port of a hotplug request, or NULL after replying why not. */
static struct port *hotplug_port(const char *id)
{
	char path[PATH_MAX + ID_MAX + 8];
	struct port *p;

	if (port_find(id) || !strcmp(id, QMP_ID)) {
		reply("err %s exists", id);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s.sock", qmp_dir, id);
	p = port_new(id, BE_UNIX);
	if (strlen(id) >= ID_MAX || !addr_unix(p, path) || !port_add(p)) {
		port_free(p);
		reply("err cannot add port %s", id);
		return NULL;
	}
	return p;
}

static void cmd_hotplug(char **argv)
{
	uint64_t device, nr;
	struct port *p;

	if (!qmp_ready() || !arg_u64(argv[3], "DEVICE", &device) ||
	    !arg_u64(argv[4], "NR", &nr))
		return;
	if (device > UINT_MAX || nr > UINT_MAX || strlen(argv[2]) >= ID_MAX) {
		reply("err bad DEVICE, NR or NAME");
		return;
	}
	p = hotplug_port(argv[1]);
	if (!p)
		return;
	park(PEND_HOTPLUG, p, UINT64_MAX);
	snprintf(pend.name, sizeof(pend.name), "%s", argv[2]);
	pend.device = device;
	pend.nr = nr;
	pend.step = STEP_CHARDEV_ADD;
	qmp_chardev_add(p);
}

static void cmd_unplug(char **argv)
{
	struct port *p = arg_port(argv[1], true);

	if (!p || !qmp_ready())
		return;
	park(PEND_UNPLUG, p, UINT64_MAX);
	pend.step = STEP_DEVICE_DEL;
	/* The event may come before device_del's own reply. */
	p->deleted = false;
	qmp_by_id("device_del", p->id);
}

static const struct command commands[] = {
	{ "ping", "", 1, cmd_ping },
	{ "source", " ID NBYTES SEED", 4, cmd_source },
	{ "sink", " ID NBYTES SEED", 4, cmd_sink },
	{ "echo", " ID", 2, cmd_echo },
	{ "reset", " ID", 2, cmd_reset },
	{ "wait", " ID MS", 3, cmd_wait },
	{ "disconnect", " ID", 2, cmd_disconnect },
	{ "connect", " ID", 2, cmd_connect },
	{ "stats", " ID", 2, cmd_stats },
	{ "hotplug", " ID NAME DEVICE NR", 5, cmd_hotplug },
	{ "unplug", " ID", 2, cmd_unplug },
	{ "vserport", " ID", 2, cmd_vserport },
	{ "heard", " ID OFF", 3, cmd_heard },
};

static void serve(char *line)
{
	char *argv[6];
	int argc;
	size_t i;

	/* talk's TEXT is the rest of the line, spaces and all. */
	if (!strncmp(line, "talk ", 5)) {
		cmd_talk(line + 5);
		return;
	}
	argc = split(line, argv, 5);
	if (!argc) {
		reply("err empty request");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, argv[0]))
			continue;
		if (argc != commands[i].argc)
			reply("err usage: %s%s", commands[i].name,
			      commands[i].args);
		else
			commands[i].run(argv);
		return;
	}
	reply("err unknown request %s", argv[0]);
}

/* Serve requests in order while none is parked and a reply has room. */
static void ctl_process(void)
{
	char line[REQ_MAX];

	while (!starting && pend.kind == PEND_NONE &&
	       buf_make_room(&ctl->out) >= REPLY_MAX &&
	       buf_line(&ctl->in, line, sizeof(line))) {
		logmsg("< %s", line);
		serve(line);
		pending_check();
	}
}

/* ---- the loop ---- */

static bool port_reads(struct port *p)
{
	if (p->is_qmp)
		return line_room(p) > 0;
	if (p->is_ctl)
		return !starting && line_room(p) > 0;
	return data_want(p) > 0;
}

/* What to poll the port for, or -1 not to poll it at all. */
static int port_events(struct port *p)
{
	int ev;

	if (p->link == LINK_CONNECTING)
		return POLLOUT;
	if (p->link != LINK_UP)
		return -1;
	/* An idle stream still learns that QEMU went away. */
	ev = p->be == BE_UDP ? 0 : POLLRDHUP;
	if (buf_used(&p->out) || (p->job.kind == JOB_SOURCE && !p->job.done))
		ev |= POLLOUT;
	if (port_reads(p))
		ev |= POLLIN;
	return ev;
}

static void port_event(struct port *p, short revents)
{
	if (p->link == LINK_CONNECTING) {
		port_connect_done(p);
		return;
	}
	if (revents & POLLOUT)
		port_writable(p);
	if (p->link != LINK_UP ||
	    !(revents & (POLLIN | POLLHUP | POLLRDHUP | POLLERR)))
		return;
	if (p->is_qmp || p->is_ctl)
		line_read(p);
	else
		data_read(p, revents);
	if (p->is_qmp)
		qmp_lines();
}

static int poll_build(void)
{
	size_t i;
	int n = 0, ev;

	for (i = 0; i < nports; i++) {
		ev = port_events(ports[i]);
		if (ev < 0)
			continue;
		pfds[n].fd = ports[i]->fd;
		pfds[n].events = ev;
		pfds[n].revents = 0;
		polled[n++] = ports[i];
	}
	return n;
}

static int poll_timeout(void)
{
	uint64_t now = now_ms(), next = t_end;
	size_t i;

	for (i = 0; i < nports; i++)
		if (port_wakeup(ports[i]) < next)
			next = port_wakeup(ports[i]);
	if (pend.kind != PEND_NONE && pend.deadline < next)
		next = pend.deadline;
	if (starting && t_start + START_MS + HANDSHAKE_MS < next)
		next = t_start + START_MS + HANDSHAKE_MS;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void startup_check(uint64_t now)
{
	size_t i;

	for (i = 0; i < nports; i++)
		if (ports[i]->link != LINK_UP && !ports[i]->late)
			break;
	if (i == nports && qmp_state == QMP_READY) {
		starting = false;
		logmsg("all ports connected, QMP ready");
	} else if (now >= t_start + START_MS + HANDSHAKE_MS) {
		die(2, "setup", "QMP did not become ready");
	}
}

static void timers_run(void)
{
	uint64_t now = now_ms();
	size_t i;

	if (now >= t_end)
		die(3, "timeout", "no end of the control channel after %lu s",
		    timeout_s);
	for (i = 0; i < nports; i++)
		port_timer(ports[i], now);
	if (starting)
		startup_check(now);
}

static void loop_once(void)
{
	int i, n = poll_build();

	if (poll(pfds, n, poll_timeout()) < 0 && errno != EINTR)
		die(2, "poll", "%s", strerror(errno));
	for (i = 0; i < n; i++)
		if (pfds[i].revents)
			port_event(polled[i], pfds[i].revents);
	timers_run();
	pending_check();
	ports_reap();
	ctl_process();
}

/* ---- start-up ---- */

static void log_open(const char *path)
{
	log_file = stderr;
	if (!path)
		return;
	log_file = fopen(path, "a");
	if (!log_file) {
		log_file = stderr;
		die(2, path, "%s", strerror(errno));
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
}

static void parse_args(int argc, char **argv, const char **conf,
		       const char **qmp_path, const char **log_path)
{
	uint64_t t;
	int c;

	while ((c = getopt(argc, argv, "c:q:t:l:")) != -1) {
		if (c == 'c')
			*conf = optarg;
		else if (c == 'q')
			*qmp_path = optarg;
		else if (c == 'l')
			*log_path = optarg;
		else if (c == 't' && parse_u64(optarg, &t) && t && t < 1u << 30)
			timeout_s = t;
		else
			usage();
	}
	if (!*conf || !*qmp_path || optind != argc)
		usage();
}

/* Every port and QMP at once: QEMU creates its sockets in its own time. */
static void connect_all(void)
{
	size_t i;

	for (i = 0; i < nports; i++) {
		if (ports[i]->late)
			continue;
		if (ports[i]->be == BE_UDP)
			udp_open(ports[i]);
		else
			port_connect_start(ports[i], START_MS);
	}
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *qmp_path = NULL, *log_path = NULL;

	log_file = stderr;
	parse_args(argc, argv, &conf, &qmp_path, &log_path);
	log_open(log_path);
	/* A port QEMU closed must fail a write, not kill the peer. */
	signal(SIGPIPE, SIG_IGN);
	t_start = now_ms();
	t_end = t_start + (uint64_t)timeout_s * 1000;
	conf_load(conf);
	qmp_setup(qmp_path);
	logmsg("peer starting: %zu ports, timeout %lu s", nports - 1, timeout_s);
	connect_all();
	for (;;)
		loop_once();
}
