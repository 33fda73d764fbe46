// SPDX-License-Identifier: GPL-2.0
/*
 * hostcpu: the CPU time the host spent on the guest's behalf, so that a
 * benchmark can say which side was its wall: the peer's own, and QEMU's
 * threads' (its main loop, each vCPU, and the rest: I/O and RCU threads),
 * in ns, read from the scheduler's run time of each thread. QEMU is the
 * process at the other end of the QMP socket; its vCPU threads are the
 * ones named "CPU N/..." (QEMU's -name debug-threads=on).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "qmp.h"

#define VCPUS_MAX	16

/* A thread's run time from /proc/PID/task/TID/schedstat, in ns. */
static uint64_t thread_ns(int pid, const char *tid, char *comm, size_t size)
{
	char path[320];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, tid);
	f = fopen(path, "r");
	comm[0] = '\0';
	if (f) {
		if (fgets(comm, size, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid, tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return ns;
}

struct qemu_ns {
	uint64_t main;
	uint64_t other;
	uint64_t vcpu[VCPUS_MAX];
	unsigned int vcpus;
};

static void qemu_thread(int pid, const char *tid, struct qemu_ns *q)
{
	char comm[32];
	uint64_t ns = thread_ns(pid, tid, comm, sizeof(comm));
	unsigned int cpu;

	if (atoi(tid) == pid)
		q->main += ns;
	else if (sscanf(comm, "CPU %u/", &cpu) == 1 && cpu < VCPUS_MAX) {
		q->vcpu[cpu] += ns;
		if (cpu >= q->vcpus)
			q->vcpus = cpu + 1;
	} else {
		q->other += ns;
	}
}

static bool qemu_times(int pid, struct qemu_ns *q)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			qemu_thread(pid, d->d_name, q);
	closedir(dir);
	return true;
}

static uint64_t peer_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* hostcpu: "ok peer=NS main=NS other=NS vcpu=NS,NS..." */
void cmd_hostcpu(char **argv)
{
	struct qemu_ns q = { 0 };
	char vcpus[VCPUS_MAX * 21 + 1] = "", *o = vcpus;
	unsigned int i;
	int pid = qmp_pid();

	(void)argv;
	if (pid <= 0 || !qemu_times(pid, &q)) {
		reply("err QEMU's process is not known");
		return;
	}
	for (i = 0; i < q.vcpus; i++)
		o += sprintf(o, "%s%" PRIu64, i ? "," : "", q.vcpu[i]);
	reply("ok peer=%" PRIu64 " main=%" PRIu64 " other=%" PRIu64
	      " vcpu=%s", peer_ns(), q.main, q.other, q.vcpus ? vcpus : "-");
}
