/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control port's requests: replies and the one parked request (ctl.c),
 * the requests themselves (cmd.c), hot-plug and unplug (hotplug.c).
 */
#ifndef VPORTX_PEER_CTL_H
#define VPORTX_PEER_CTL_H

#include "peer.h"

struct port;

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

/* ctl.c */
extern struct pending pend;

void __printf(1, 2) reply(const char *fmt, ...);
void __printf(1, 2) pending_reply(const char *fmt, ...);
void park(enum pend_kind kind, struct port *p, uint64_t deadline);
void connect_check(void);
void pending_check(void);
uint64_t pending_deadline(void);
void ctl_process(void);

/* cmd.c */
struct port *arg_port(const char *id, bool data_only);
bool arg_u64(const char *s, const char *what, uint64_t *v);
void serve(char *line);

/* hostcpu.c */
void cmd_hostcpu(char **argv);

/* hotplug.c */
void hotplug_check(void);
void unplug_check(void);
void cmd_hotplug(char **argv);
void cmd_unplug(char **argv);

#endif
