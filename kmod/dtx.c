// SPDX-License-Identifier: GPL-2.0
/*
 * A direct port's transmit side. The node core queues written bytes in
 * its chunks (txq.c); a push hands each contiguous piece of them to the
 * device as one element that holds a reference to its chunk, dropped
 * once the device has used it. splice into the node does the same with
 * the pipe's own pages: neither copies, and page-cache pages stay in the
 * cache (nothing is stolen). At most DPORT_TX_INFLIGHT elements per port
 * are in the device's hands. Nothing goes to a port with no host: QEMU
 * would throw it away.
 *
 * Locking: the port's lock, taken in the queue's interrupt, guards the
 * queue and tx_inflight. The TX queue's lock is never taken under it: it
 * is not interrupt-safe.
 */

#include "direct.h"

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/scatterlist.h>
#include <linux/splice.h>

/* Elements of one port in the device's hands: 4 MiB of 64 KiB chunks. */
#define DPORT_TX_INFLIGHT 64

/*
 * Writers and splicers waiting for room may go on, and a push that found
 * none goes again. Under the lock.
 */
void vportx_dtx_wake(struct vportx_dport *port)
{
	if (!port->node)
		return;
	wake_up_interruptible(&port->node->wq);
	if (port->tx_full) {
		port->tx_full = false;
		vportx_tx_kick(port->node);
	}
}

/*
 * Drop the references of the elements the device has used. Locked. Room
 * for a push that found none: the TX work is kicked, whoever reclaims.
 */
static void tx_reclaim(struct vportx_dport *port)
{
	unsigned int len;
	struct page *page;
	bool any = false;

	while ((page = virtqueue_get_buf(port->out_vq, &len))) {
		port->tx_inflight--;
		put_page(page);
		any = true;
	}
	if (any)
		vportx_dtx_wake(port);
}

/* The host is back: what tx_give() put off goes now. */
void vportx_dtx_resume(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	vportx_dtx_wake(port);
	spin_unlock_irq(&port->lock);
}

/*
 * Hand the device @len bytes of @page from @off as one element, with the
 * caller's reference to @page, which it drops if it cannot. Locked.
 */
static int tx_add(struct vportx_dport *port, struct page *page, size_t off,
		  size_t len)
{
	struct scatterlist sg;
	int ret = -EAGAIN;

	if (port->tx_inflight < DPORT_TX_INFLIGHT) {
		sg_init_table(&sg, 1);
		sg_set_page(&sg, page + off / PAGE_SIZE, len, off % PAGE_SIZE);
		ret = virtqueue_add_outbuf(port->out_vq, &sg, 1, page,
					   GFP_ATOMIC);
	}
	if (ret) {
		put_page(page);
		port->tx_full = true;
		return -EAGAIN;
	}
	port->tx_inflight++;
	return 0;
}

/*
 * tx_add() for a port that may be gone (ENODEV), paused or without a host
 * (EAGAIN, and a kick once it resumes or the host is back: QEMU throws
 * away what a port with no host sends), room made first.
 */
static int tx_give(struct vportx_dport *port, struct page *page, size_t off,
		   size_t len)
{
	int ret = -ENODEV;

	spin_lock_irq(&port->lock);
	if (port->gone || port->paused || !READ_ONCE(port->host_connected)) {
		put_page(page);
		if (!port->gone) {
			port->tx_full = true;
			ret = -EAGAIN;
		}
	} else {
		tx_reclaim(port);
		ret = tx_add(port, page, off, len);
	}
	spin_unlock_irq(&port->lock);
	return ret;
}

/* Let the device see what was added. */
static void tx_notify(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	if (dport_queues(port))
		virtqueue_kick(port->out_vq);
	spin_unlock_irq(&port->lock);
}

/* Hand queued bytes to the device a contiguous piece at a time. */
ssize_t vportx_dtx_push(struct vportx_node *node, size_t len)
{
	struct vportx_dport *port = node->backend;
	struct page *page;
	size_t done = 0, n, off;
	int ret = 0;

	while (done < len && !ret) {
		n = vportx_txq_piece(&node->txq, done, &page, &off);
		if (!n)
			break;
		n = min(n, len - done);
		ret = tx_give(port, page, off, n);
		if (!ret)
			done += n;
	}
	if (done)
		tx_notify(port);
	return done ? done : ret;
}

struct dport_splice {
	struct vportx_dport *port;
	bool full;
};

/* splice_from_pipe's actor: one pipe buffer, one element. */
static int pipe_to_port(struct pipe_inode_info *pipe, struct pipe_buffer *buf,
			struct splice_desc *sd)
{
	struct dport_splice *s = sd->u.data;
	struct vportx_dport *port = s->port;
	int ret;

	if (!try_get_page(buf->page))
		return -EFAULT;
	ret = tx_give(port, buf->page, buf->offset, sd->len);
	s->full = ret == -EAGAIN;
	return ret ? ret : sd->len;
}

static bool tx_room(struct vportx_dport *port)
{
	bool room;

	spin_lock_irq(&port->lock);
	room = port->gone;
	if (!room && !port->paused && READ_ONCE(port->host_connected)) {
		tx_reclaim(port);
		room = port->tx_inflight < DPORT_TX_INFLIGHT &&
		       port->out_vq->num_free;
	}
	spin_unlock_irq(&port->lock);
	return room;
}

/* The pipe's pages go to the device as they are, without a copy. */
ssize_t vportx_dtx_splice_write(struct vportx_node *node,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags, bool nonblock)
{
	struct dport_splice s = { .port = node->backend };
	struct splice_desc sd = {
		.total_len = len,
		.flags = flags,
		.u.data = &s,
	};
	ssize_t ret;

	for (;;) {
		s.full = false;
		pipe_lock(pipe);
		ret = __splice_from_pipe(pipe, &sd, pipe_to_port);
		pipe_unlock(pipe);
		tx_notify(s.port);
		if (ret != -EAGAIN || !s.full || nonblock)
			return ret;
		if (wait_event_interruptible(node->wq, tx_room(s.port)))
			return -ERESTARTSYS;
	}
}

/* The device used elements: drop their pages; a full port has room. */
void vportx_dtx_done(struct vportx_dport *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->lock, flags);
	if (dport_queues(port))
		tx_reclaim(port);
	spin_unlock_irqrestore(&port->lock, flags);
}

/* The device has used every TX element the port gave it. */
bool vportx_dtx_drained(struct vportx_dport *port)
{
	bool drained;

	spin_lock_irq(&port->lock);
	if (dport_queues(port))
		tx_reclaim(port);
	drained = !port->tx_inflight;
	spin_unlock_irq(&port->lock);
	return drained;
}

/*
 * The device is done with the transmit queue: drop the references of
 * every element in it, used or not. Under the port's lock.
 */
void vportx_dtx_drop(struct vportx_dport *port)
{
	struct page *page;

	tx_reclaim(port);
	while ((page = virtqueue_detach_unused_buf(port->out_vq)))
		put_page(page);
	port->tx_inflight = 0;
}
