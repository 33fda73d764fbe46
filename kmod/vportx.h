/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vportx internals: the node core and the backend interface.
 *
 * A node is one attached port, exposed as /dev/vportxNpM. The node core
 * (node.c) owns minors, the device, the file operations and the counters;
 * a backend (stacked.c) moves the bytes. The core never knows which
 * backend it has: it only calls the ops below.
 */
#ifndef _VPORTX_H
#define _VPORTX_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct pipe_inode_info;
struct vportx_node;

/*
 * What a backend does for a node. open/release bracket each open of the
 * node; read/write/poll/splice_write run between them. @nonblock is the
 * node file's O_NONBLOCK. start runs once the node exists, before anyone
 * can find it; destroy undoes start and the backend's attach, before the
 * node's device goes away.
 */
struct vportx_backend_ops {
	const char *name;
	void (*start)(struct vportx_node *node);
	int (*open)(struct vportx_node *node);
	void (*release)(struct vportx_node *node);
	ssize_t (*read)(struct vportx_node *node, char __user *buf, size_t len,
			bool nonblock);
	ssize_t (*write)(struct vportx_node *node, const char __user *buf,
			 size_t len, bool nonblock);
	ssize_t (*splice_write)(struct vportx_node *node,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags, bool nonblock);
	__poll_t (*poll)(struct vportx_node *node, struct file *file,
			 poll_table *wait);
	void (*destroy)(struct vportx_node *node);
};

/* What attaching asks for, validated, before the node exists. */
struct vportx_params {
	u32 hold;
	u32 tx_limit;
};

struct vportx_node {
	struct device *dev;
	u32 minor;
	u32 port_dev;		/* N of the port's vportNpM */
	u32 port_nr;		/* M of the port's vportNpM */
	dev_t port_devt;	/* the port's device number, for EBUSY */
	struct vportx_params params;
	const struct vportx_backend_ops *ops;
	void *backend;		/* the backend's own state */

	unsigned int open_count;	/* under the node table's lock */
	int host_connected;	/* 1, 0, or -1 while the port is not open */
	bool unplugged;		/* the port was hot-unplugged */
	struct work_struct remove_work;	/* unplugged: remove once closed */
	struct fasync_struct *fasync;	/* O_ASYNC openers, for SIGIO */
	struct mutex rx_lock;	/* one reader at a time, in order */
	struct mutex tx_lock;	/* one writer at a time, in order */
	atomic64_t rx_bytes;
	atomic64_t tx_bytes;
};

/* node.c */
int vportx_node_init(void);
void vportx_node_uninit(void);
int vportx_node_create(u32 port_dev, u32 port_nr, dev_t port_devt,
		       const struct vportx_params *params,
		       const struct vportx_backend_ops *ops, void *backend,
		       u32 *minor);
int vportx_node_destroy(u32 minor);
void vportx_node_destroy_all(void);
struct vportx_info;
int vportx_node_info(struct vportx_info *info);
void vportx_node_port_state(struct vportx_node *node, int host_connected,
			    bool unplugged);
void vportx_node_readable(struct vportx_node *node);

/* sysfs.c */
extern const struct attribute_group *vportx_node_groups[];

/* stacked.c */
struct vportx_attach;
int vportx_stacked_attach(int fd, const struct vportx_params *params,
			  struct vportx_attach *out);

/* control.c */
int vportx_control_init(void);
void vportx_control_uninit(void);

#endif /* _VPORTX_H */
