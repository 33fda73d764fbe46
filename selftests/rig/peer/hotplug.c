// SPDX-License-Identifier: GPL-2.0
/*
 * Hot-plug and unplug through QMP, each parked until QEMU is done:
 * chardev-add, device_add and connecting to the new socket; device_del,
 * waiting for DEVICE_DELETED, chardev-remove. A failed step leaves no
 * chardev behind.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "port.h"
#include "qmp.h"

#define UNPLUG_MS	10000	/* waiting for DEVICE_DELETED */

static void hotplug_chardev_added(void)
{
	const char *why = qmp_failure();

	if (why) {
		pend.port->dead = true;
		pending_reply("err %s", why);
		return;
	}
	qmp_device_add(pend.port->id, pend.name, pend.device, pend.nr);
	pend.step = STEP_DEVICE_ADD;
}

static void hotplug_device_added(void)
{
	const char *why = qmp_failure();

	if (why) {
		/* Leave no chardev behind, so the same ID can be plugged again. */
		snprintf(pend.why, sizeof(pend.why), "%s", why);
		qmp_by_id("chardev-remove", pend.port->id);
		pend.step = STEP_CLEANUP;
		return;
	}
	port_connect_start(pend.port, CONNECT_MS);
	pend.step = STEP_CONNECT;
	connect_check();
}

void hotplug_check(void)
{
	if (qmp_busy())
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
	const char *why = qmp_failure();

	if (why) {
		pending_reply("err %s", why);
		return;
	}
	pend.step = STEP_DELETED;
	pend.deadline = now_ms() + UNPLUG_MS;
	unplug_wait_deleted();
}

void unplug_check(void)
{
	const char *why = qmp_failure();

	if (qmp_busy())
		return;
	if (pend.step == STEP_DEVICE_DEL) {
		unplug_device_deleting();
	} else if (pend.step == STEP_DELETED) {
		unplug_wait_deleted();
	} else {
		pend.port->dead = true;
		if (why)
			pending_reply("err %s", why);
		else
			pending_reply("ok");
	}
}

/* QMP can take commands, or false after replying why not. */
static bool arg_qmp(void)
{
	if (qmp_ready())
		return true;
	reply("err QMP is not available");
	return false;
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
	snprintf(path, sizeof(path), "%s/%s.sock", qmp_run_dir(), id);
	p = port_new(id, BE_UNIX);
	if (strlen(id) >= ID_MAX || !addr_unix(p, path) || !port_add(p)) {
		port_free(p);
		reply("err cannot add port %s", id);
		return NULL;
	}
	return p;
}

void cmd_hotplug(char **argv)
{
	uint64_t device, nr;
	struct port *p;

	if (!arg_qmp() || !arg_u64(argv[3], "DEVICE", &device) ||
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

void cmd_unplug(char **argv)
{
	struct port *p = arg_port(argv[1], true);

	if (!p || !arg_qmp())
		return;
	park(PEND_UNPLUG, p, UINT64_MAX);
	pend.step = STEP_DEVICE_DEL;
	/* The event may come before device_del's own reply. */
	p->deleted = false;
	qmp_by_id("device_del", p->id);
}
