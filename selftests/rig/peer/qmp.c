// SPDX-License-Identifier: GPL-2.0
/*
 * The QMP client: the greeting and capabilities negotiation, one command at
 * a time and its reply, the commands hot-plug sends, and the events the
 * peer follows: DEVICE_DELETED, and VSERPORT_CHANGE into the table of the
 * serial ports' open state that `vserport` reads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* struct ucred */
#endif
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "json.h"
#include "port.h"
#include "qmp.h"

#define MAX_VSERS	256
#define QMP_CMD_MAX	2048

enum qmp_state { QMP_DOWN, QMP_GREETING, QMP_CAPS, QMP_READY, QMP_LOST };

/* The one QMP command in flight and how it ended. */
struct qmp_cmd {
	bool busy;
	bool failed;
	char desc[REPLY_MAX];
};

/* The last VSERPORT_CHANGE QEMU reported for a device id. */
struct vser {
	char id[ID_MAX];
	bool open;
};

static struct port *qmp;
static enum qmp_state qmp_state;
static struct qmp_cmd qmp_cmd;
static struct vser vsers[MAX_VSERS];
static size_t nvsers;
static char run_dir[PATH_MAX];

void qmp_setup(const char *path)
{
	char *slash;

	qmp = port_new(QMP_ID, BE_UNIX);
	qmp->is_qmp = true;
	if (!addr_unix(qmp, path) || !port_add(qmp))
		die(2, path, "QMP socket path too long");
	/* Hot-plugged ports' sockets go beside QMP's, in the run's directory. */
	snprintf(run_dir, sizeof(run_dir), "%s", path);
	slash = strrchr(run_dir, '/');
	if (!slash)
		strcpy(run_dir, ".");
	else if (slash == run_dir)
		strcpy(run_dir, "/");
	else
		*slash = '\0';
}

const char *qmp_run_dir(void)
{
	return run_dir;
}

void qmp_up(void)
{
	qmp_state = QMP_GREETING;
}

void qmp_lost(void)
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

int vser_open(const char *id)
{
	size_t i;

	for (i = 0; i < nvsers; i++)
		if (!strcmp(vsers[i].id, id))
			return vsers[i].open;
	return -1;
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

void qmp_lines(void)
{
	static char line[BUF_SIZE];

	while (qmp->link == LINK_UP && buf_line(&qmp->in, line, sizeof(line)))
		qmp_line(line);
}

bool qmp_ready(void)
{
	return qmp_state == QMP_READY;
}

/* QEMU's pid: the other end of the QMP socket; 0 if not known. */
int qmp_pid(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (qmp->fd < 0 ||
	    getsockopt(qmp->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return 0;
	return cred.pid;
}

bool qmp_busy(void)
{
	return qmp_cmd.busy;
}

const char *qmp_failure(void)
{
	return qmp_cmd.failed ? qmp_cmd.desc : NULL;
}

void qmp_chardev_add(const struct port *p)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&p->addr;
	char id[ID_MAX * 6], path[sizeof(sun->sun_path) * 6];

	json_escape(id, sizeof(id), p->id);
	json_escape(path, sizeof(path), sun->sun_path);
	qmp_send("{\"execute\":\"chardev-add\",\"arguments\":{"
		 "\"id\":\"%s\",\"backend\":{"
		 "\"type\":\"socket\",\"data\":{"
		 "\"addr\":{"
		 "\"type\":\"unix\",\"data\":{"
		 "\"path\":\"%s\"}},\"server\":true,\"wait\":false}}}}", id, path);
}

/* Port @nr of virtio-serial device @device, named @port_name ("-": none). */
void qmp_device_add(const char *port_id, const char *port_name,
		    unsigned int device, unsigned int nr)
{
	char id[ID_MAX * 6], name[ID_MAX * 6], name_arg[ID_MAX * 6 + 16] = "";

	json_escape(id, sizeof(id), port_id);
	json_escape(name, sizeof(name), port_name);
	if (strcmp(port_name, "-"))
		snprintf(name_arg, sizeof(name_arg), ",\"name\":\"%s\"", name);
	qmp_send("{\"execute\":\"device_add\",\"arguments\":{"
		 "\"driver\":\"virtserialport\",\"bus\":\"vser%u.0\",\"nr\":%u,\"chardev\":\"%s\",\"id\":\"%s\"%s}}",
		 device, nr, id, id, name_arg);
}

/* device_del and chardev-remove: a command whose only argument is id. */
void qmp_by_id(const char *command, const char *id)
{
	char eid[ID_MAX * 6];

	json_escape(eid, sizeof(eid), id);
	qmp_send("{\"execute\":\"%s\",\"arguments\":{\"id\":\"%s\"}}",
		 command, eid);
}
