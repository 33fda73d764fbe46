// SPDX-License-Identifier: GPL-2.0
/*
 * The peer's configuration (-c): one port a line, as selftests/rig/run
 * writes it from ports.conf, loaded into the port table at start-up.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "port.h"

static struct port *port_inet(const char *id, enum backend be, uint16_t port)
{
	struct port *p = port_new(id, be);

	addr_loopback((struct sockaddr_in *)&p->addr, port);
	p->addr_len = sizeof(struct sockaddr_in);
	return p;
}

/* "ID vsock PATH GUESTPORT": the guest's port is any but VMADDR_PORT_ANY. */
static struct port *port_vsock(const char *id, const char *path,
			       const char *guest_port)
{
	struct port *p;
	uint64_t v;

	if (!parse_u64(guest_port, &v) || v >= UINT32_MAX)
		return NULL;
	p = port_new(id, BE_VSOCK);
	if (!addr_unix(p, path))
		return NULL;
	p->vsock_port = v;
	return p;
}

/*
 * One "ID unix PATH", "ID tcp PORT", "ID udp PEERPORT QEMUPORT" or
 * "ID vsock PATH GUESTPORT" line.
 */
static struct port *conf_port(char **w, int n)
{
	struct port *p = NULL;
	uint16_t a, b;

	if (n == 3 && !strcmp(w[1], "unix")) {
		p = port_new(w[0], BE_UNIX);
		if (!addr_unix(p, w[2]))
			return NULL;
	} else if (n == 4 && !strcmp(w[1], "vsock")) {
		p = port_vsock(w[0], w[2], w[3]);
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
		die(2, where,
		    "expected ID unix PATH, ID tcp PORT, ID udp PEERPORT QEMUPORT or ID vsock PATH GUESTPORT, then optionally late");
	if (late && p->be == BE_UDP)
		die(2, where, "a udp port cannot be late");
	p->late = late;
	if (!port_add(p))
		die(2, where, "duplicate port %s or too many ports", p->id);
}

void conf_load(const char *path)
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
