// SPDX-License-Identifier: GPL-2.0
/*
 * The port table: every port the peer serves, QMP's connection among them,
 * by id; their addresses; and freeing unplugged ports where nothing holds a
 * pointer to them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "port.h"

struct port *ports[MAX_PORTS];
size_t nports;
struct port *ctl;

struct port *port_new(const char *id, enum backend be)
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

void port_free(struct port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->in.data);
	free(p->out.data);
	free(p);
}

/* Ports the control protocol can name: QMP's connection is not one. */
struct port *port_find(const char *id)
{
	size_t i;

	for (i = 0; i < nports; i++)
		if (!ports[i]->is_qmp && !ports[i]->dead &&
		    !strcmp(ports[i]->id, id))
			return ports[i];
	return NULL;
}

bool port_add(struct port *p)
{
	if (nports == MAX_PORTS || (!p->is_qmp && port_find(p->id)))
		return false;
	ports[nports++] = p;
	if (p->is_ctl)
		ctl = p;
	return true;
}

/* Unplugged ports go only here, where nothing holds a pointer to them. */
void ports_reap(void)
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

bool addr_unix(struct port *p, const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&p->addr;

	if (strlen(path) >= sizeof(sun->sun_path))
		return false;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	p->addr_len = sizeof(*sun);
	return true;
}

void addr_loopback(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}
