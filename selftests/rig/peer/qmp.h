/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QMP client (qmp.c): one command in flight at a time, its result
 * kept until the next; the serial ports' open state from QEMU's events.
 */
#ifndef VPORTX_PEER_QMP_H
#define VPORTX_PEER_QMP_H

#include <stdbool.h>

#define QMP_ID		"QMP"

struct port;

/* The QMP port at @path; hot-plugged ports' sockets go beside it. */
void qmp_setup(const char *path);
const char *qmp_run_dir(void);

/* Its link came up, or went down. */
void qmp_up(void);
void qmp_lost(void);

/* Handle every complete line QMP sent. */
void qmp_lines(void);

/* The capabilities are negotiated: commands can be sent. */
bool qmp_ready(void);

/* The last command: still waiting for its reply; why it failed, or NULL. */
bool qmp_busy(void);
int qmp_pid(void);
const char *qmp_failure(void);

void qmp_chardev_add(const struct port *p);
void qmp_device_add(const char *port_id, const char *port_name,
		    unsigned int device, unsigned int nr);
/* device_del and chardev-remove: a command whose only argument is id. */
void qmp_by_id(const char *command, const char *id);

/* Whether QEMU last reported serial port @id open: 1, 0, -1 if never. */
int vser_open(const char *id);

#endif
