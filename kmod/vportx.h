/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vportx internals: the node core and the backend interface.
 *
 * A node is one attached port, exposed as /dev/vportxNpM. The node core
 * (node.c, with sysfs.c, tx.c and txq.c) owns minors, the device, the
 * file operations, the TX queue and the counters; a backend (stacked.c,
 * or the direct backend of direct.h) moves the bytes. The core never
 * knows which backend it has: it only calls the ops below. The files and
 * who calls whom: Documentation/vportx.rst, "Modules".
 *
 * Locking. Every lock, what it guards, outermost first; a lock is only
 * ever taken with those above it in its chain held, never below.
 *
 *   claim_op_lock (claim.c)      one claim or release at a time
 *   -> the driver core's device lock (a claim's bind, probe, remove)
 *   -> dd->lock (direct.h)       a claimed device's port table, its
 *                                control-in queue, the protocol
 *   -> node->port_lock           a node's port_open, its hold, and the
 *                                backend's open_port, close_port, destroy
 *   -> unplug_watch_lock (stacked.c)  the class interface
 *   -> virtio-ports' class mutex (the driver core's)
 *   -> nodes_lock (node.c)       the node table, the hidden list and
 *                                every open_count; never held across a
 *                                backend op that may sleep for long
 *   claims_lock (claim.c)        the claims list; under claim_op_lock
 *                                or alone (probe)
 *   suspend_lock (direct.c)      one debugfs suspend at a time; alone
 *
 * A node's data path takes none of the above:
 *   node->rx_lock                one reader (read, splice_read)
 *   node->tx_lock -> node->tx_push_lock
 *                                one writer; one pusher (writer or work)
 *   node->txq.lock               the TX queue's pages (spinlock)
 *   node->tx_run_lock            tx_running against kicks (irq-safe)
 *
 * Interrupt-safe spinlocks of the direct backend, innermost:
 *   dd->ports_lock               the port table against the interrupts
 *   port->lock (vportx_dport)    a port's queues and buffer lists
 *   dd->ctrl_out_lock            the control-out queue; may be taken
 *                                under port->lock (PORT_OPEN)
 * The TX queue's lock is never taken under port->lock: it is not
 * interrupt-safe.
 *
 * Work on vportx_wq (node removal, TX work, the control work, RX refill)
 * takes dd->lock, port_lock and nodes_lock, so none of them is held
 * where that work is waited for: claims flush the workqueue before
 * claim_op_lock, and node_free() is never called under nodes_lock.
 * vportx_wq is freezable: from the freezing of tasks to their thawing
 * in a system suspend its work waits, so nothing the devices' freeze
 * or restore runs may wait for that work (direct_freeze() drains by
 * polling, and only cancels the control work).
 *
 * A node is alive while hidden (only its creator sees it); once published
 * it is freed by whoever detaches it, so its creator touches nothing of
 * it after dropping nodes_lock (node_created()).
 */
#ifndef _VPORTX_H
#define _VPORTX_H

#include "compat.h"

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct pipe_inode_info;
struct vportx_node;

/*
 * What a backend does for a node. The node core alone decides when the
 * port is open, that is when the host sees it open (PORT_OPEN, QEMU's
 * guest_connected) and may send: from attach to detach with hold=always,
 * from the node's open to its last release with hold=open (node.c,
 * node_holds()). It calls open_port and close_port at those moments and
 * nowhere else; read, poll and the pushes run only while the port is open.
 * @nonblock is the node file's O_NONBLOCK. push hands up to @len queued
 * bytes (see vportx_txq_*) to the port without sleeping for space, from
 * the node's TX work. It returns how many bytes it pushed, or -EAGAIN
 * after which the backend calls vportx_tx_kick() once the port has room.
 * write_through, which a backend may leave out, writes from the writer's
 * buffer straight to the port under the same rules as push, for a write
 * with nothing queued before it. splice_read, which a backend may leave
 * out, fills a pipe from the port as read does a buffer. poll reports the
 * port's EPOLLIN, EPOLLHUP and EPOLLERR; the core decides EPOLLOUT.
 * start, which a backend may leave out, runs once the node exists, before
 * anyone can find it (after open_port with hold=always); destroy closes
 * the port if it is open and undoes the backend's attach, before the
 * node's device goes away.
 */
struct vportx_backend_ops {
	const char *name;
	u32 id;			/* VPORTX_BACKEND_* */
	/* The node lives and dies with its port: no VPORTX_IOC_DETACH. */
	bool owns_node;
	void (*start)(struct vportx_node *node);
	int (*open_port)(struct vportx_node *node);
	void (*close_port)(struct vportx_node *node);
	/*
	 * Would closing the open port now drop bytes the host sent? Only a
	 * backend whose port discards them at close (stacked) has it.
	 */
	bool (*port_busy)(struct vportx_node *node);
	ssize_t (*read)(struct vportx_node *node, char __user *buf, size_t len,
			bool nonblock);
	ssize_t (*splice_read)(struct vportx_node *node,
			       struct pipe_inode_info *pipe, size_t len,
			       unsigned int flags, bool nonblock);
	ssize_t (*push)(struct vportx_node *node, size_t len);
	ssize_t (*write_through)(struct vportx_node *node,
				 const char __user *buf, size_t len);
	/* Without it, splice into the node goes through the TX queue. */
	ssize_t (*splice_write)(struct vportx_node *node,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags, bool nonblock);
	__poll_t (*poll)(struct vportx_node *node);
	/* Only a backend that reads the port itself has an RX budget. */
	void (*set_rx_budget)(struct vportx_node *node, u32 bytes);
	size_t (*rx_queued)(struct vportx_node *node);
	void (*destroy)(struct vportx_node *node);
};

/* What attaching asks for, validated, before the node exists. */
struct vportx_params {
	u32 hold;
	u32 tx_limit;
	u32 tx_low;
	u32 rx_budget;		/* bytes; only a backend that reads itself */
};

/*
 * The TX queue (txq.c): bytes written to a node, in pages, until the
 * backend has pushed them to the port.
 */
struct vportx_txq {
	spinlock_t lock;	/* guards all below */
	struct list_head pages;	/* by page->lru; page_private(): bytes in it */
	size_t head;		/* the first unpushed byte, in the first page */
	size_t queued;		/* written and not yet pushed */
	struct list_head spare;	/* pushed chunks, for reuse (txq.c) */
	unsigned int spares;	/* on the spare list */
	unsigned int pages_held;	/* on both lists */
	/* Changed under the lock, from sysfs; read without it too. */
	u32 limit;		/* writers add nothing at or above it */
	u32 low;		/* once full, writable again at or below it */
	bool full;		/* a writer found no room: wait for low */
	bool filling;		/* a writer copies into the tail page unlocked */
};

struct vportx_node {
	struct device *dev;
	const char *name;	/* the port's, once the backend knows it */
	u32 minor;
	u32 port_dev;		/* N of the port's vportNpM */
	u32 port_nr;		/* M of the port's vportNpM */
	dev_t port_devt;	/* the port's device number, for EBUSY */
	struct vportx_params params;
	const struct vportx_backend_ops *ops;
	void *backend;		/* the backend's own state */

	/* Opens, and a hold change in progress; under nodes_lock. */
	unsigned int open_count;
	/* Opening and closing the port, and changing hold: one at a time. */
	struct mutex port_lock;
	bool port_open;		/* open_port done, close_port not */
	int host_connected;	/* 1, 0, or -1 while the port is not open */
	bool unplugged;		/* the port was hot-unplugged */
	struct work_struct remove_work;	/* unplugged: remove once closed */
	struct list_head hidden;	/* not yet or no longer published */
	struct fasync_struct *fasync;	/* O_ASYNC openers, for SIGIO */
	struct mutex rx_lock;	/* one reader at a time, in order */
	struct mutex tx_lock;	/* one writer at a time, in order */
	/* Readers, writers, drains and pollers of the node wait here. */
	wait_queue_head_t wq;

	struct vportx_txq txq;
	struct delayed_work tx_work;	/* pushes the queue through the port */
	struct mutex tx_push_lock;	/* one pusher: the TX work or a writer */
	spinlock_t tx_run_lock;	/* tx_running against kicks from IRQs */
	bool tx_running;	/* the port is open: tx_work may push */
	u32 tx_drain_ms;	/* how long close waits for the queue */
	struct hrtimer tx_timer;	/* a push put off while writes stream */
	u64 tx_last_write;	/* local_clock() after it; under tx_lock */
	unsigned int tx_burst;	/* writes since the stream began */
	u32 tx_coalesce_us;	/* how long a streamed write may wait */

	atomic64_t rx_bytes;
	atomic64_t tx_bytes;	/* handed to the port */
	atomic64_t tx_pushes;	/* pushes that handed bytes to the port */
	atomic64_t tx_stalls;	/* writes that found the queue full */
	atomic64_t tx_dropped;	/* queued, then dropped: see tx.c */
};

/* How long the last close of a hold=open node waits for its TX queue. */
#define VPORTX_TX_DRAIN_MS_DEFAULT 30000
/* How long a write in a stream of small writes may wait to be pushed. */
#define VPORTX_TX_COALESCE_US_DEFAULT 500
#define VPORTX_TX_COALESCE_US_MAX 1000000

/* The module's workqueue, freezable: node removal and TX work. */
extern struct workqueue_struct *vportx_wq;

/* node.c */
int vportx_node_init(void);
void vportx_node_uninit(void);
int vportx_node_create(u32 port_dev, u32 port_nr, dev_t port_devt,
		       const struct vportx_params *params,
		       const struct vportx_backend_ops *ops, void *backend,
		       struct device *parent, u32 *minor);
void vportx_node_set_name(struct vportx_node *node, const char *name);
bool vportx_params_hold(const struct vportx_params *params);
int vportx_node_destroy(u32 minor);
void vportx_node_destroy_all(void);
struct vportx_info;
int vportx_node_info(struct vportx_info *info);
bool vportx_node_on_device(u32 port_dev);
bool vportx_node_unread_closed(u32 port_dev);
void vportx_node_port_state(struct vportx_node *node, int host_connected,
			    bool unplugged);
void vportx_node_readable(struct vportx_node *node);
void vportx_node_port_removed(dev_t port_devt);
int vportx_node_set_rx_budget(struct vportx_node *node, u32 bytes);
int vportx_node_set_tx_limit(struct vportx_node *node, u32 limit);
int vportx_node_set_tx_low(struct vportx_node *node, u32 low);
int vportx_node_set_hold(struct vportx_node *node, u32 hold);
size_t vportx_node_rx_queued(struct vportx_node *node);

/* txq.c */
void vportx_txq_init(struct vportx_txq *q, u32 limit, u32 low);
ssize_t vportx_txq_write(struct vportx_txq *q, struct iov_iter *from);
ssize_t vportx_txq_to_pipe(struct vportx_txq *q, size_t skip,
			   struct pipe_inode_info *pipe, size_t len);
bool vportx_txq_advance(struct vportx_txq *q, size_t n);
size_t vportx_txq_piece(struct vportx_txq *q, size_t skip,
			struct page **page, size_t *off);
size_t vportx_txq_discard(struct vportx_txq *q);
void vportx_txq_trim(struct vportx_txq *q);
bool vportx_txq_writable(struct vportx_txq *q);
bool vportx_txq_set_limits(struct vportx_txq *q, u32 limit, u32 low);

/* tx.c */
void vportx_tx_init(struct vportx_node *node);
void vportx_tx_start(struct vportx_node *node);
void vportx_tx_stop(struct vportx_node *node);
void vportx_tx_kick(struct vportx_node *node);
ssize_t vportx_tx_write(struct vportx_node *node, struct iov_iter *from,
			bool nonblock);
ssize_t vportx_tx_splice(struct vportx_node *node,
			 struct pipe_inode_info *pipe, size_t len,
			 unsigned int flags, bool nonblock);
int vportx_tx_drain(struct vportx_node *node, long timeout);

/* sysfs.c */
extern const struct attribute_group *vportx_node_groups[];

/* stock.c */
void vportx_stock_init(struct device_driver *drv);
struct device *vportx_stock_device(u32 index);
struct device *vportx_stock_port(u32 index, dev_t devt,
				 struct module **owner);

/* claim.c */
void vportx_claim_init(struct device_driver *drv);
void vportx_claim_uninit(void);
bool vportx_claim_params(u32 index, struct vportx_params *params);
int vportx_claim(u32 index, const struct vportx_params *params);
int vportx_claim_release(u32 index);

/* direct.c */
int vportx_direct_init(void);
void vportx_direct_uninit(void);

/* stacked.c */
struct vportx_attach;

int vportx_stacked_attach(int fd, const struct vportx_params *params,
			  struct vportx_attach *out);

/* control.c */
int vportx_control_init(void);
void vportx_control_uninit(void);

#endif /* _VPORTX_H */
