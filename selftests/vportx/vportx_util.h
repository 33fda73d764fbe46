/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the vportx suites share: ATTACH, DETACH and INFO through the control
 * device (include/uapi/linux/vportx.h), and the data node /dev/vportxNpM a
 * port attached as, with its sysfs attributes. Functions return 0 or a
 * positive value on success and -errno on failure unless they say
 * otherwise.
 */
#ifndef _VPORTX_SELFTESTS_VPORTX_UTIL_H
#define _VPORTX_SELFTESTS_VPORTX_UTIL_H

#include <stddef.h>

#include <linux/vportx.h>

/* N and M of the stock node /dev/vportNpM of the port named @name. */
int vportx_stock_numbers(const char *name, unsigned int *dev,
			 unsigned int *nr);

/* DETACH the node with minor @minor through the control fd @ctl. */
int vportx_detach_minor(int ctl, __u32 minor);
/* INFO of @minor (with @flags) into @info, cleared first. */
int vportx_info_of(int ctl, __u32 minor, __u32 flags,
		   struct vportx_info *info);
/*
 * Detach every node still attached to the port named @name: a test that
 * died (timeout, failed setup) runs no teardown. Errors are ignored.
 */
void vportx_release_port(int ctl, const char *name);

/*
 * Wait for ports @a and @b and give their device's N (*@index) and their
 * M; -EXDEV if they are not on one virtio-console device.
 */
int vportx_direct_pair(const char *a, const char *b, unsigned int *index,
		       unsigned int *nr_a, unsigned int *nr_b);
/* CLAIM (with hold policy @hold) or RELEASE (@cmd) virtio@index. */
int vportx_claim_ioctl(int ctl, unsigned long cmd, __u32 index, __u32 hold);
/*
 * The direct node of port @nr of the claimed virtio@index, once devtmpfs
 * has it, into @a (minor, port_dev, port_nr; the rest zero).
 */
int vportx_find_direct(int ctl, unsigned int index, unsigned int nr,
		       struct vportx_attach *a);

/* A zeroed ATTACH request for the open file @fd with hold policy @hold. */
void vportx_init_attach(struct vportx_attach *a, int fd, __u32 hold);
/* ATTACH the open file @fd with hold policy @hold; @a gets the output. */
int vportx_attach_fd(int ctl, int fd, __u32 hold, struct vportx_attach *a);
/*
 * Attach the port named @name the documented way: an O_PATH descriptor of
 * its stock node, which opens nothing (vportx opens the port itself when
 * its hold policy says). Whatever an earlier test left attached to the
 * port is detached first.
 */
int vportx_attach_port(int ctl, const char *name, __u32 hold,
		       struct vportx_attach *a);
/* vportx_attach_port with a TX queue limit and low watermark (0: default). */
int vportx_attach_port_tx(int ctl, const char *name, __u32 hold,
			  __u32 tx_limit, __u32 tx_low,
			  struct vportx_attach *a);

/* /dev/vportxNpM, the data node of @a. */
void vportx_node_path(const struct vportx_attach *a, char *path, size_t len);
/* Wait for @path to exist (@exists) or to be gone, as devtmpfs has it. */
int vportx_wait_path(const char *path, int exists);
/* Open the data node of @a once devtmpfs has it: the fd. */
int vportx_open_node(const struct vportx_attach *a, int flags);
/*
 * Open the data node of @a read-write and wait up to @timeout_ms for its
 * host: the fd, or -ETIMEDOUT (the node closed again) when the host never
 * came.
 */
int vportx_open_node_host(const struct vportx_attach *a, int timeout_ms);

/* Attribute @attr of the data node of @a in sysfs, newline stripped. */
int vportx_node_sysfs(const struct vportx_attach *a, const char *attr,
		      char *buf, size_t len);
/* A decimal counter attribute (rx_bytes, tx_bytes), or -1 if it is not one. */
long long vportx_node_counter(const struct vportx_attach *a, const char *attr);
/* Write @value to the writable attribute @attr of the data node of @a. */
int vportx_node_sysfs_set(const struct vportx_attach *a, const char *attr,
			  const char *value);
/*
 * Wait up to @timeout_ms until attribute @attr of @a reads @want, or with
 * @want "gone" until the node has no sysfs directory any more.
 */
int vportx_wait_attr(const struct vportx_attach *a, const char *attr,
		     const char *want, int timeout_ms);

/*
 * The VPORTX_MANY ports many.00 .. many.15 on the rig's second device
 * (Documentation/rig.rst): port @i's name.
 */
#define VPORTX_MANY 16
void vportx_many_id(int i, char *id, size_t len);
/* Their hosts connect late: connect many.@i's and reset its peer. */
int vportx_many_connect(int i);
/*
 * Both ways over every many.* port at once, fd i of @fds on many.@i: the
 * peer sinks the @n bytes of pattern @seed + i that fd i writes, and then
 * sources @n bytes of @seed + VPORTX_MANY + i for fd i to read and check.
 * Waits up to @timeout_ms for each sink. How many halves failed (their
 * ports go to stderr), or -1 when the peer refused a job.
 */
int vportx_many_both_ways(const int *fds, unsigned int seed, size_t n,
			  int timeout_ms);

/*
 * Run @fn(@ctl, @fd) in a child that dropped every id to nobody (which
 * clears its capabilities): its exit status, or -errno if it could not run.
 */
int vportx_as_nobody(int (*fn)(int, int), int ctl, int fd);

#endif /* _VPORTX_SELFTESTS_VPORTX_UTIL_H */
