// SPDX-License-Identifier: GPL-2.0
/*
 * Time, the log and errors: the monotonic clock every deadline is on, the
 * time-stamped log (-l, stderr otherwise), and errors as "peer: what: why"
 * on stderr and in the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer.h"

static FILE *log_file;

uint64_t now_ms(void)
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

void logmsg(const char *fmt, ...)
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

void error_msg(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(what, fmt, ap);
	va_end(ap);
}

void die(int code, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(what, fmt, ap);
	va_end(ap);
	exit(code);
}

/* Before this, errors go to stderr only. */
void log_open(const char *path)
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
