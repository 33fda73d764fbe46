/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The direct backend: vportx drives a claimed virtio-console device itself.
 * Its files, from the bottom up (Documentation/vportx.rst, "Modules"):
 * dctrl.c the control queues; drx.c and dtx.c a port's receive and
 * transmit sides; dport.c a port's life and its node; dproto.c the
 * multiport protocol, which makes and removes ports; direct.c the virtio
 * driver (probe, remove, suspend). claim.c says which devices it gets.
 */
#ifndef _VPORTX_DIRECT_H
#define _VPORTX_DIRECT_H

#include "vportx.h"

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/workqueue.h>

struct direct_dev;

/*
 * One port of a claimed device. The device's table and the port's node
 * each hold a reference: a node outlives its port's removal, and even the
 * device's, until its last close.
 */
struct vportx_dport {
	struct kref ref;
	u32 id;

	/* What the control protocol said; under the device's lock. */
	char *name;		/* NULL until the device names it */
	bool console;		/* a virtconsole port: no node */
	bool host_connected;
	bool attached;		/* a node was made for it, or tried */
	bool ready_owed;	/* PORT_ADD came, PORT_READY not yet sent */

	/*
	 * Against the virtqueue interrupts and between the node's users:
	 * everything below, and the device and its queues while !gone.
	 */
	spinlock_t lock;
	bool gone;		/* removed, or its device went away */
	bool paused;		/* its device freezing: no buffers to it */
	struct direct_dev *dd;
	struct virtqueue *in_vq;	/* both NULL while the device is frozen */
	struct virtqueue *out_vq;
	struct vportx_node *node;	/* from start to destroy */
	bool guest_open;	/* we told the device the port is open */

	/* RX: buffers of a page each, posted, or filled and not yet read. */
	unsigned int rx_posted;	/* in in_vq, filled or not */
	unsigned int rx_held;	/* on rx_ready, or the reader's */
	struct list_head rx_ready;	/* filled, by lru; private: length */
	bool rx_armed;		/* all read: SIGIO at the next data */
	bool rx_kick_due;	/* buffers posted since the last kick */
	unsigned int rx_budget;	/* buffers, posted and held together */
	unsigned int rx_ring;	/* the receive queue's size, in buffers */
	/* A budget beyond rx_ring: posts buffers as the device fills them. */
	struct work_struct rx_work;
	/*
	 * Pages given to a pipe, with a reference of ours: once the pipe is
	 * done with one (ours is the only reference left) it is posted
	 * again instead of a fresh page, which would be zeroed. At most
	 * rx_budget of them.
	 */
	struct list_head rx_lent;
	unsigned int rx_lent_count;
	/* The reader's own, under the node's rx_lock: a page being read. */
	struct page *rx_page;
	unsigned int rx_off;
	unsigned int rx_len;

	/* TX: elements in out_vq, each a reference to a page. */
	unsigned int tx_inflight;
	bool tx_full;		/* a push found no room: kick at the next */
};

/* The device: its queues and its ports, by id. */
struct direct_dev {
	struct virtio_device *vdev;
	u32 max_ports;
	struct virtqueue **vqs;	/* every queue, by index */
	struct virtqueue *ctrl_in;
	/* NULL before DRIVER_OK and while frozen: messages are dropped. */
	struct virtqueue *ctrl_out;
	spinlock_t ctrl_out_lock;	/* senders against the interrupt */
	struct work_struct ctrl_work;	/* reads the device's messages */
	struct mutex lock;	/* the ports, and ctrl_in once DRIVER_OK */
	bool frozen;		/* reset, no queues: the control work waits */
	/* The table below against the interrupts; changed under both. */
	spinlock_t ports_lock;
	struct vportx_params params;	/* for every port's node */
	struct dentry *debugfs;
	struct dentry *debugfs_suspend;
	struct vportx_dport *ports[];	/* by id; NULL if free */
};

/* A control message's buffer: a header, and for PORT_NAME the name. */
#define DIRECT_CTRL_BUF PAGE_SIZE

/* Port 0's queues, then the control queues, then ports 1 and up. */
enum { VQ_RX0, VQ_TX0, VQ_CTRL_IN, VQ_CTRL_OUT };

/* The device's port @id, or NULL. Under its lock. */
static inline struct vportx_dport *dd_port(struct direct_dev *dd, u32 id)
{
	lockdep_assert_held(&dd->lock);
	return dd->ports[id];
}

/* Under the device's lock too: the interrupts look at the table. */
static inline void dd_port_set(struct direct_dev *dd, u32 id,
			       struct vportx_dport *port)
{
	spin_lock_irq(&dd->ports_lock);
	dd->ports[id] = port;
	spin_unlock_irq(&dd->ports_lock);
}

/* @fn on every port of the device. Under its lock. */
static inline void dd_ports_each(struct direct_dev *dd,
				 void (*fn)(struct vportx_dport *port))
{
	u32 id;

	for (id = 0; id < dd->max_ports; id++)
		if (dd_port(dd, id))
			fn(dd_port(dd, id));
}

/*
 * The queues are the port's to use: it is there, its device not frozen.
 * Under the port's lock.
 */
static inline bool dport_queues(const struct vportx_dport *port)
{
	return !port->gone && port->in_vq;
}

/* dctrl.c: the control queues */
void *vportx_dctrl_alloc(void);
int vportx_dctrl_send_msg(struct direct_dev *dd, u32 id, u16 event,
			  u16 value, void *msg);
int vportx_dctrl_send(struct direct_dev *dd, u32 id, u16 event, u16 value);
void vportx_dctrl_out_set(struct direct_dev *dd, struct virtqueue *vq);
void vportx_dctrl_out_done(struct virtqueue *vq);
int vportx_dctrl_in_post(struct direct_dev *dd, void *buf);
int vportx_dctrl_in_fill(struct direct_dev *dd);
void vportx_dctrl_drop(struct direct_dev *dd);

/* dproto.c: the multiport protocol */
void vportx_dproto_work(struct work_struct *work);
void vportx_dproto_in_done(struct virtqueue *vq);
void vportx_dproto_read(struct direct_dev *dd, bool repost);
void vportx_dproto_remove(struct direct_dev *dd, u32 id);

/* dport.c: a port's life and its node */
struct vportx_dport *vportx_dport_alloc(struct direct_dev *dd, u32 id);
void vportx_dport_put(struct vportx_dport *port);
int vportx_dport_attach(struct vportx_dport *port);
void vportx_dport_host(struct vportx_dport *port, bool connected);
void vportx_dport_gone(struct vportx_dport *port);
void vportx_dport_drop_queues(struct vportx_dport *port);
void vportx_dport_pause(struct vportx_dport *port);
void vportx_dport_resume(struct vportx_dport *port);

/* drx.c: a port's receive side */
void vportx_drx_init(struct vportx_dport *port);
void vportx_drx_free(struct vportx_dport *port);
void vportx_drx_collect(struct vportx_dport *port);
void vportx_drx_fill(struct vportx_dport *port);
void vportx_drx_drop(struct vportx_dport *port);
void vportx_drx_done(struct vportx_dport *port);
ssize_t vportx_drx_read(struct vportx_node *node, char __user *buf,
			size_t len, bool nonblock);
ssize_t vportx_drx_splice_read(struct vportx_node *node,
			       struct pipe_inode_info *pipe, size_t len,
			       unsigned int flags, bool nonblock);
void vportx_drx_set_budget(struct vportx_node *node, u32 bytes);
size_t vportx_drx_queued(struct vportx_node *node);
__poll_t vportx_drx_poll(struct vportx_node *node);

/* dtx.c: a port's transmit side */
void vportx_dtx_wake(struct vportx_dport *port);
void vportx_dtx_resume(struct vportx_dport *port);
void vportx_dtx_drop(struct vportx_dport *port);
void vportx_dtx_done(struct vportx_dport *port);
bool vportx_dtx_drained(struct vportx_dport *port);
ssize_t vportx_dtx_push(struct vportx_node *node, size_t len);
ssize_t vportx_dtx_splice_write(struct vportx_node *node,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags, bool nonblock);

#endif /* _VPORTX_DIRECT_H */
