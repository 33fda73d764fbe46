// SPDX-License-Identifier: GPL-2.0
/*
 * The systemd services that have a node open, and moving them to another.
 *
 * A port is served by one node at a time: the stock node, or vportx's once
 * it is attached (udev/60-vportx.rules tells systemd which with
 * SYSTEMD_READY). An agent that systemd started on one node keeps it open
 * when the port moves to the other, and the new node then says EBUSY, so
 * attach, detach, claim and release stop the services holding the node
 * they take away and start them again once udev has named the new one:
 * they then open /dev/virtio-ports/NAME afresh and find the new node.
 * Processes that are not in a service are left alone: the ioctl says
 * EBUSY for them, as it always did.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vportxctl.h"

bool vx_systemd(void)
{
	return !access("/run/systemd/system", F_OK) && !geteuid();
}

/* Whether @rdev is one of the @n devices of @rdevs. */
static bool one_of(dev_t rdev, const dev_t *rdevs, size_t n)
{
	while (n--)
		if (rdevs[n] && rdevs[n] == rdev)
			return true;
	return false;
}

/* Whether process @pid has one of the @n character devices @rdevs open. */
static bool pid_holds(const char *pid, const dev_t *rdevs, size_t n)
{
	char dir[64], path[320];
	struct dirent *e;
	struct stat st;
	bool held = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!held && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		held = !stat(path, &st) && S_ISCHR(st.st_mode) &&
		       one_of(st.st_rdev, rdevs, n);
	}
	closedir(d);
	return held;
}

/* The service @pid runs in (cgroup v2: "0::/system.slice/X.service"). */
static bool pid_unit(const char *pid, char *unit, size_t len)
{
	char path[64], line[512], *name;
	bool found = false;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		name = strrchr(line, '/');
		n = name ? strlen(++name) : 0;
		found = !strncmp(line, "0::", 3) && n > 8 && n < len &&
			!strcmp(name + n - 8, ".service");
		if (found)
			memcpy(unit, name, n + 1);
	}
	fclose(f);
	return found;
}

static void units_add(struct vx_units *u, const char *unit)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->name[i], unit))
			return;
	if (u->n == VX_UNITS_MAX)
		return;
	u->name[u->n] = strdup(unit);
	if (u->name[u->n])
		u->n++;
}

/* One walk of /proc however many devices: a device may have 32 ports. */
void vx_holders_of(const dev_t *rdevs, size_t n, struct vx_units *u)
{
	char unit[256];
	struct dirent *e;
	DIR *proc;

	if (!n || !vx_systemd())
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((e = readdir(proc))) {
		if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
		    atoi(e->d_name) == getpid())
			continue;
		if (pid_holds(e->d_name, rdevs, n) &&
		    pid_unit(e->d_name, unit, sizeof(unit)))
			units_add(u, unit);
	}
	closedir(proc);
}

void vx_holders(dev_t rdev, struct vx_units *u)
{
	vx_holders_of(&rdev, rdev ? 1 : 0, u);
}

int vx_run(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* systemctl @verb and every unit of @u. */
static int units_verb(const char *verb, struct vx_units *u)
{
	char *argv[VX_UNITS_MAX + 3];
	size_t i;
	int ret;

	if (!u->n)
		return 0;
	argv[0] = "systemctl";
	argv[1] = (char *)verb;
	for (i = 0; i < u->n; i++)
		argv[2 + i] = u->name[i];
	argv[2 + u->n] = NULL;
	ret = vx_run(argv);
	if (ret)
		fprintf(stderr, "vportxctl: systemctl %s %s%s: failed\n", verb,
			u->name[0], u->n > 1 ? " ..." : "");
	return ret;
}

int vx_units_stop(struct vx_units *u)
{
	return units_verb("stop", u);
}

void vx_units_start(struct vx_units *u)
{
	static char *const settle[] = { "udevadm", "settle", "--timeout=30",
					NULL };

	if (!u->n)
		return;
	/* The new node named first: the services open it by its name. */
	vx_run(settle);
	units_verb("start", u);
}

void vx_units_free(struct vx_units *u)
{
	while (u->n)
		free(u->name[--u->n]);
}
