// SPDX-License-Identifier: GPL-2.0
/*
 * A direct port's transmit side. The node core queues written bytes in
 * its chunks (txq.c); a push hands each contiguous piece of them to the
 * device as one element that holds a reference to its chunk, dropped
 * once the device has used it. splice into the node hands the pipe's own
 * pages, up to DTX_BATCH_BYTES of them as one element (a batch), where
 * physically contiguous pieces share one of its buffers: neither path
 * copies, and page-cache pages stay in the cache (nothing is stolen).
 *
 * Why batches: QEMU pops, maps, completes and (with the notification that
 * follows) interrupts once per element, and writes each of its buffers to
 * the host socket with a call of its own. A page per element made spliced
 * bytes cost all of that per 4 KiB, against once per 64 KiB for written
 * bytes, and capped what is in flight at DPORT_TX_INFLIGHT pages. A batch
 * pays the per-element costs once per 64 KiB; only the socket write per
 * buffer is left for pages that are not contiguous.
 *
 * At most DPORT_TX_INFLIGHT elements per port are in the device's hands.
 * Nothing goes to a port with no host: QEMU would throw it away.
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
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/splice.h>

/* Elements of one port in the device's hands: 4 MiB of 64 KiB chunks. */
#define DPORT_TX_INFLIGHT 64
/* A batch: the bytes and pipe buffers of one spliced element. */
#define DTX_BATCH_BYTES SZ_64K
#define DTX_BATCH_BUFS 16

/*
 * A spliced element: a reference to each pipe buffer's page, and its
 * buffers for the device. Its token is the batch's address with bit 0
 * set, a written element's its page's (aligned: bit 0 clear).
 */
struct dtx_batch {
	unsigned int npages;
	unsigned int nsg;
	size_t bytes;
	struct page *pages[DTX_BATCH_BUFS];
	struct scatterlist sg[DTX_BATCH_BUFS];
};

#define DTX_BATCH_TAG 1UL

static void *batch_token(struct dtx_batch *b)
{
	return (void *)((unsigned long)b | DTX_BATCH_TAG);
}

static void batch_free(struct dtx_batch *b)
{
	while (b->npages)
		put_page(b->pages[--b->npages]);
	kfree(b);
}

/* Drop what an element the device is done with held. */
static void tx_put(void *token)
{
	unsigned long t = (unsigned long)token;

	if (t & DTX_BATCH_TAG)
		batch_free((struct dtx_batch *)(t & ~DTX_BATCH_TAG));
	else
		put_page(token);
}

/*
 * The port may be given elements: not paused for a freeze, and with a
 * host (QEMU throws away what a port without one sends). Locked.
 */
static bool tx_open(const struct vportx_dport *port)
{
	return !port->paused && READ_ONCE(port->host_connected);
}

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
	void *token;
	bool any = false;

	while ((token = virtqueue_get_buf(port->out_vq, &len))) {
		port->tx_inflight--;
		tx_put(token);
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
	if (port->gone || !tx_open(port)) {
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
	struct dtx_batch *batch;	/* being filled; its element reserved */
	bool full;
};

/*
 * Reserve an element for a batch: counted in tx_inflight at once, with
 * room for every buffer it may have even without indirect descriptors,
 * so adding it cannot fail for want of room. Only the splicer adds to the
 * queue meanwhile (it holds the node's tx_lock, its TX queue empty).
 */
static int batch_open(struct dport_splice *s)
{
	struct vportx_dport *port = s->port;
	int ret = -ENODEV;

	spin_lock_irq(&port->lock);
	if (!port->gone) {
		ret = -EAGAIN;
		if (tx_open(port)) {
			tx_reclaim(port);
			if (port->tx_inflight < DPORT_TX_INFLIGHT &&
			    port->out_vq->num_free >= DTX_BATCH_BUFS) {
				port->tx_inflight++;
				ret = 0;
			}
		}
		if (ret)
			port->tx_full = true;
	}
	spin_unlock_irq(&port->lock);
	if (ret)
		return ret;
	s->batch = kzalloc(sizeof(*s->batch), GFP_KERNEL);
	if (s->batch) {
		sg_init_table(s->batch->sg, DTX_BATCH_BUFS);
		return 0;
	}
	spin_lock_irq(&port->lock);
	port->tx_inflight--;
	spin_unlock_irq(&port->lock);
	return -ENOMEM;
}

/* Give the device the batch as one element, or drop it: the port is gone. */
static void batch_close(struct dport_splice *s)
{
	struct dtx_batch *b = s->batch;
	struct vportx_dport *port = s->port;
	int ret = -ENODEV;

	s->batch = NULL;
	if (b->nsg)
		sg_mark_end(&b->sg[b->nsg - 1]);
	spin_lock_irq(&port->lock);
	if (b->nsg && dport_queues(port))
		ret = virtqueue_add_outbuf(port->out_vq, b->sg, b->nsg,
					   batch_token(b), GFP_ATOMIC);
	if (ret) {
		port->tx_inflight--;
		batch_free(b);
	}
	spin_unlock_irq(&port->lock);
}

/* @len bytes of @page from @off, in the buffer before them if it can. */
static void batch_add(struct dtx_batch *b, struct page *page,
		      unsigned int off, unsigned int len)
{
	struct scatterlist *last = b->nsg ? &b->sg[b->nsg - 1] : NULL;

	b->pages[b->npages++] = page;
	b->bytes += len;
	if (last && sg_phys(last) + last->length ==
		    page_to_phys(page) + off) {
		last->length += len;
		return;
	}
	sg_set_page(&b->sg[b->nsg++], page, len, off);
}

/* splice_from_pipe's actor: a pipe buffer into the batch. */
static int pipe_to_port(struct pipe_inode_info *pipe, struct pipe_buffer *buf,
			struct splice_desc *sd)
{
	struct dport_splice *s = sd->u.data;
	int ret;

	if (!s->batch) {
		ret = batch_open(s);
		s->full = ret == -EAGAIN;
		if (ret)
			return ret;
	}
	if (!try_get_page(buf->page))
		return -EFAULT;
	batch_add(s->batch, buf->page, buf->offset, sd->len);
	if (s->batch->npages == DTX_BATCH_BUFS ||
	    s->batch->bytes >= DTX_BATCH_BYTES)
		batch_close(s);
	return sd->len;
}

static bool tx_room(struct vportx_dport *port)
{
	bool room;

	spin_lock_irq(&port->lock);
	room = port->gone;
	if (!room && tx_open(port)) {
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
		if (s.batch)
			batch_close(&s);
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
 * every element in it, used or not. Under the port's lock. A batch being
 * filled stays counted: its splicer drops it (batch_close()).
 */
void vportx_dtx_drop(struct vportx_dport *port)
{
	void *token;

	tx_reclaim(port);
	while ((token = virtqueue_detach_unused_buf(port->out_vq))) {
		port->tx_inflight--;
		tx_put(token);
	}
}
