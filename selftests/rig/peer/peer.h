/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every file of the host peer uses: the byte queue, time, logging and
 * errors, word parsing, and the start-up flag. Defined in buf.c, log.c,
 * parse.c and peer.c.
 */
#ifndef VPORTX_PEER_H
#define VPORTX_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_MAX		64
#define BUF_SIZE	(64 * 1024)
#define REPLY_MAX	320	/* longest reply, with its newline */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

/* A byte queue of BUF_SIZE: data[head..len) is pending. */
struct buf {
	char *data;
	size_t head;
	size_t len;
};

/* True until every port is connected and QMP is ready (peer.c). */
extern bool starting;

/* log.c */
uint64_t now_ms(void);
void log_open(const char *path);
void __printf(1, 2) logmsg(const char *fmt, ...);
void __printf(2, 3) error_msg(const char *what, const char *fmt, ...);
void __noreturn __printf(3, 4)
die(int code, const char *what, const char *fmt, ...);

/* buf.c */
size_t buf_used(const struct buf *b);
void buf_clear(struct buf *b);
size_t buf_make_room(struct buf *b);
bool buf_append(struct buf *b, const void *data, size_t n);
bool buf_line(struct buf *b, char *line, size_t size);

/* parse.c */
int split(char *s, char **words, int max);
bool parse_u64(const char *s, uint64_t *v);
bool parse_inet_port(const char *s, uint16_t *port);

#endif
