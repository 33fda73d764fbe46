// SPDX-License-Identifier: GPL-2.0
/*
 * Byte queues of BUF_SIZE: every port's input and output, and the lines
 * the control port and QMP are read in.
 */
#include <string.h>

#include "peer.h"

size_t buf_used(const struct buf *b)
{
	return b->len - b->head;
}

void buf_clear(struct buf *b)
{
	b->head = 0;
	b->len = 0;
}

/* Free space at the end, after moving pending bytes to the front. */
size_t buf_make_room(struct buf *b)
{
	size_t used = buf_used(b);

	if (b->head && b->len == BUF_SIZE) {
		memmove(b->data, b->data + b->head, used);
		b->head = 0;
		b->len = used;
	} else if (!used) {
		buf_clear(b);
	}
	return BUF_SIZE - b->len;
}

bool buf_append(struct buf *b, const void *data, size_t n)
{
	if (buf_make_room(b) < n)
		return false;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return true;
}

/* Move the next complete line, without its "\r\n", into line. */
bool buf_line(struct buf *b, char *line, size_t size)
{
	char *s = b->data + b->head;
	char *nl = memchr(s, '\n', buf_used(b));
	size_t n;

	if (!nl)
		return false;
	n = nl - s;
	b->head += n + 1;
	if (n && s[n - 1] == '\r')
		n--;
	if (n >= size)
		n = size - 1;	/* an over-long request fails to parse */
	memcpy(line, s, n);
	line[n] = '\0';
	return true;
}
