// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol's requests (Documentation/rig.rst): checking their
 * arguments, running each, and finding the one a line names.
 */
#include <ctype.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ctl.h"
#include "port.h"
#include "qmp.h"

#define HEARD_CHUNK	56	/* bytes of a heard line per reply: 4x escaped */

typedef void (*command_fn)(char **argv);

struct command {
	const char *name;
	const char *args;	/* the usage after the name */
	int argc;		/* words, the name included */
	command_fn run;
};

/* The port a request names, or NULL after replying why not. */
struct port *arg_port(const char *id, bool data_only)
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

bool arg_u64(const char *s, const char *what, uint64_t *v)
{
	if (parse_u64(s, v))
		return true;
	reply("err bad %s %s", what, s);
	return false;
}

static void cmd_ping(char **argv)
{
	(void)argv;
	reply("ok pong");
}

static void cmd_job(char **argv, enum job_kind kind, bool fast)
{
	uint64_t nbytes, seed;
	struct port *p;

	if (!arg_u64(argv[2], "NBYTES", &nbytes) ||
	    !arg_u64(argv[3], "SEED", &seed))
		return;
	p = arg_job_port(argv[1]);
	if (!p)
		return;
	if (fast)
		job_start_fast(p, kind, nbytes, seed);
	else
		job_start(p, kind, nbytes, seed);
	reply("ok");
}

static void cmd_source(char **argv)
{
	cmd_job(argv, JOB_SOURCE, false);
}

static void cmd_sink(char **argv)
{
	cmd_job(argv, JOB_SINK, false);
}

static void cmd_fastsource(char **argv)
{
	cmd_job(argv, JOB_SOURCE, true);
}

static void cmd_fastsink(char **argv)
{
	cmd_job(argv, JOB_SINK, true);
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
	int open = vser_open(argv[1]);

	if (open < 0)
		reply("ok none");
	else
		reply("ok open=%d", open);
}

static const struct command commands[] = {
	{ "ping", "", 1, cmd_ping },
	{ "source", " ID NBYTES SEED", 4, cmd_source },
	{ "sink", " ID NBYTES SEED", 4, cmd_sink },
	{ "fastsource", " ID NBYTES SEED", 4, cmd_fastsource },
	{ "fastsink", " ID NBYTES SEED", 4, cmd_fastsink },
	{ "hostcpu", "", 1, cmd_hostcpu },
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

void serve(char *line)
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
