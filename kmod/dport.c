// SPDX-License-Identifier: GPL-2.0
/*
 * The direct backend's ports: the data path of a node over a port of a
 * device that vportx drives itself (direct.c).
 *
 * RX: a port has a budget of page-sized buffers (the node's rx_budget),
 * posted to the device or filled and not yet read. A buffer goes back to
 * the device only once the reader has taken all of it: when the reader
 * stops, so does the host, which keeps the rest in its own socket, and
 * nothing is lost. A budget larger than the receive queue is met by
 * taking the filled buffers off the queue as they come and posting fresh
 * ones (rx_work), reader or not. read() copies across buffers;
 * splice_read() hands the filled pages themselves to the pipe and posts
 * others in their place: pages the pipe has given back (rx_lent), fresh
 * ones only when none has come back yet.
 *
 * TX: the node core queues written bytes in its chunks (txq.c); a push
 * hands each contiguous piece of them to the device as one element that
 * holds a reference to its chunk, dropped once the device has used it.
 * splice into the node does the same with the pipe's own pages: neither
 * copies, and page-cache pages stay in the cache (nothing is stolen).
 * At most DPORT_TX_INFLIGHT elements per port are in the device's hands.
 *
 * The device learns that the port is open (PORT_OPEN) when the node core
 * opens it (node.c: with the node, or from its creation with hold=always).
 * What arrived and was not read stays for the next opener: nothing is
 * discarded at close.
 *
 * While the device is frozen (suspend) the port is paused: no buffer goes
 * to the device, the queues are gone, readers read what came before and
 * writers' bytes wait in the TX queue until the restore resumes the port.
 *
 * Locking: the port's lock, taken in the queues' interrupts, guards the
 * queues and the buffer lists; the node's rx_lock makes one reader at a
 * time the owner of rx_page. The TX queue's lock is never taken under
 * the port's: it is not interrupt-safe.
 */

#include "direct.h"

#include <linux/vportx.h>

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/uaccess.h>
#include <linux/virtio_console.h>

/* Elements of one port in the device's hands: 4 MiB of 64 KiB chunks. */
#define DPORT_TX_INFLIGHT 64

/* Port 0's queues come first, the others' after the control queues. */
static void port_find_queues(struct vportx_dport *port)
{
	unsigned int vq = port->id ? 2 * (port->id + 1) : 0;

	port->in_vq = port->dd->vqs[vq];
	port->out_vq = port->dd->vqs[vq + 1];
	port->rx_ring = virtqueue_get_vring_size(port->in_vq);
}

/* The queues are the port's to use: it is there, its device not frozen. */
static bool port_queues(struct vportx_dport *port)
{
	return !port->gone && port->in_vq;
}

static void rx_refill(struct work_struct *work);

struct vportx_dport *vportx_dport_alloc(struct direct_dev *dd, u32 id)
{
	struct vportx_dport *port = kzalloc(sizeof(*port), GFP_KERNEL);

	if (!port)
		return NULL;
	kref_init(&port->ref);
	port->id = id;
	spin_lock_init(&port->lock);
	port->dd = dd;
	port_find_queues(port);
	INIT_LIST_HEAD(&port->rx_ready);
	INIT_LIST_HEAD(&port->rx_lent);
	INIT_WORK(&port->rx_work, rx_refill);
	/* Nothing read yet: the first data is news to an O_ASYNC reader. */
	port->rx_armed = true;
	return port;
}

static void free_page_list(struct list_head *pages)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, pages, lru)
		put_page(page);
}

static void dport_free(struct kref *ref)
{
	struct vportx_dport *port = container_of(ref, struct vportx_dport,
						 ref);

	free_page_list(&port->rx_ready);
	free_page_list(&port->rx_lent);
	if (port->rx_page)
		put_page(port->rx_page);
	kfree(port->name);
	kfree(port);
}

void vportx_dport_put(struct vportx_dport *port)
{
	kref_put(&port->ref, dport_free);
}

/*
 * Tell the device the port is open (or not), unless it is gone. Under the
 * port's lock with guest_open, so a restore (port_reopen()) sends either
 * what came before or nothing.
 */
static int port_set_open(struct vportx_dport *port, bool open)
{
	void *msg = vportx_direct_ctrl_alloc();
	int ret = -ENODEV;

	if (!msg)
		return -ENOMEM;
	spin_lock_irq(&port->lock);
	if (!port->gone) {
		port->guest_open = open;
		ret = vportx_direct_ctrl_send(port->dd, port->id,
					      VIRTIO_CONSOLE_PORT_OPEN, open,
					      msg);
		msg = NULL;
	}
	spin_unlock_irq(&port->lock);
	kfree(msg);
	return ret;
}

/* A reset device thinks every port closed: say again which are open. */
static void port_reopen(struct vportx_dport *port)
{
	void *msg = vportx_direct_ctrl_alloc();

	if (!msg)
		return;
	spin_lock_irq(&port->lock);
	if (!port->gone && port->guest_open) {
		vportx_direct_ctrl_send(port->dd, port->id,
					VIRTIO_CONSOLE_PORT_OPEN, 1, msg);
		msg = NULL;
	}
	spin_unlock_irq(&port->lock);
	kfree(msg);
}

/* Give the device @page to fill. Under the port's lock. */
static int rx_post(struct vportx_dport *port, struct page *page)
{
	struct scatterlist sg;
	int ret;

	sg_init_table(&sg, 1);
	sg_set_page(&sg, page, PAGE_SIZE, 0);
	ret = virtqueue_add_inbuf(port->in_vq, &sg, 1, page, GFP_ATOMIC);
	if (!ret) {
		port->rx_posted++;
		port->rx_kick_due = true;
	}
	return ret;
}

/*
 * Move the buffers the device filled to rx_ready. Under the lock; once the
 * port is gone, or its device frozen, its queue is not ours to look at.
 */
static void rx_collect(struct vportx_dport *port)
{
	unsigned int len;
	struct page *page;

	if (!port_queues(port))
		return;
	while ((page = virtqueue_get_buf(port->in_vq, &len))) {
		port->rx_posted--;
		port->rx_held++;
		set_page_private(page, min_t(unsigned int, len, PAGE_SIZE));
		list_add_tail(&page->lru, &port->rx_ready);
	}
}

static bool rx_below_budget(struct vportx_dport *port)
{
	return !port->gone && !port->paused &&
	       port->rx_posted < port->rx_ring &&
	       port->rx_posted + port->rx_held < port->rx_budget;
}

/* Tell the device about the buffers posted since the last kick. */
static void rx_kick(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	if (port->rx_kick_due && port_queues(port))
		virtqueue_kick(port->in_vq);
	port->rx_kick_due = false;
	spin_unlock_irq(&port->lock);
}

/* Buffers the device filled count as held: they left the queue. */
static bool rx_wants(struct vportx_dport *port)
{
	bool wants;

	spin_lock_irq(&port->lock);
	rx_collect(port);
	wants = rx_below_budget(port);
	spin_unlock_irq(&port->lock);
	return wants;
}

/*
 * Keep @page, given to a pipe, to post again once the pipe is done with
 * it. Under the lock. The oldest lent page goes if there are too many:
 * the caller puts the page returned.
 */
static struct page *rx_lend(struct vportx_dport *port, struct page *page)
{
	list_add_tail(&page->lru, &port->rx_lent);
	if (++port->rx_lent_count <= port->rx_budget)
		return NULL;
	page = list_first_entry(&port->rx_lent, struct page, lru);
	list_del(&page->lru);
	port->rx_lent_count--;
	return page;
}

/*
 * Post a lent page the pipe has given back, if there is one and the port
 * is below its budget. No page is locked or mapped by anyone else once
 * ours is its only reference: the pipe's buffers cannot be stolen.
 */
static bool rx_post_lent(struct vportx_dport *port)
{
	struct page *page;
	bool posted = false;

	spin_lock_irq(&port->lock);
	list_for_each_entry(page, &port->rx_lent, lru) {
		if (page_ref_count(page) != 1)
			continue;
		if (!rx_below_budget(port) || rx_post(port, page))
			break;
		list_del(&page->lru);
		port->rx_lent_count--;
		posted = true;
		break;
	}
	spin_unlock_irq(&port->lock);
	return posted;
}

/*
 * Post buffers until the port has its budget: pages back from a pipe
 * first, then fresh ones. The budget is looked at before each allocation,
 * as a fresh page costs as much as copying one (it is zeroed).
 */
static void rx_fill(struct vportx_dport *port)
{
	struct page *page;
	bool posted;

	while (rx_wants(port)) {
		if (rx_post_lent(port))
			continue;
		page = alloc_page(GFP_KERNEL);
		if (!page)
			break;
		spin_lock_irq(&port->lock);
		posted = rx_below_budget(port) && !rx_post(port, page);
		spin_unlock_irq(&port->lock);
		if (!posted) {
			put_page(page);
			break;
		}
	}
	rx_kick(port);
}

static void rx_refill(struct work_struct *work)
{
	rx_fill(container_of(work, struct vportx_dport, rx_work));
}

/*
 * A budget beyond the queue: the buffers the device filled leave it now,
 * and rx_work posts others, so the port takes its whole budget while
 * nobody reads. Under the lock, in the queue's interrupt.
 */
static void rx_ahead(struct vportx_dport *port)
{
	if (port->rx_budget <= port->rx_ring || !port->guest_open)
		return;
	rx_collect(port);
	if (rx_below_budget(port))
		queue_work(vportx_wq, &port->rx_work);
}

/*
 * The reader's next buffer, as rx_page: false if none has come. An empty
 * one goes back at once. A reader that finds none arms SIGIO.
 */
static bool rx_next(struct vportx_dport *port)
{
	struct page *page = NULL;

	spin_lock_irq(&port->lock);
	rx_collect(port);
	if (!list_empty(&port->rx_ready)) {
		page = list_first_entry(&port->rx_ready, struct page, lru);
		list_del(&page->lru);
	} else {
		port->rx_armed = true;
	}
	spin_unlock_irq(&port->lock);
	if (!page)
		return false;
	port->rx_off = 0;
	port->rx_len = page_private(page);
	WRITE_ONCE(port->rx_page, page);
	return true;
}

/*
 * The reader is done with rx_page: post it again if nobody else has it,
 * lend it if a pipe has it, and post another in its place. The reader
 * kicks the queue once it is done (rx_kick()).
 */
static void rx_put(struct vportx_dport *port)
{
	struct page *page = port->rx_page, *drop = page;
	bool reused = false;

	WRITE_ONCE(port->rx_page, NULL);
	spin_lock_irq(&port->lock);
	port->rx_held--;
	/* All that was collected is read: SIGIO at the next data. */
	if (list_empty(&port->rx_ready))
		port->rx_armed = true;
	if (page_ref_count(page) == 1 && rx_below_budget(port) &&
	    !rx_post(port, page))
		reused = true;
	else if (page_ref_count(page) > 1 && !port->gone)
		drop = rx_lend(port, page);
	spin_unlock_irq(&port->lock);
	if (reused)
		return;
	if (drop)
		put_page(drop);
	rx_fill(port);
}

/* The reader has a buffer with bytes left in it. */
static bool rx_get(struct vportx_dport *port)
{
	for (;;) {
		if (!port->rx_page && !rx_next(port))
			return false;
		if (port->rx_off < port->rx_len)
			return true;
		rx_put(port);
	}
}

/* Filled buffers are waiting for the reader. */
static bool rx_has_data(struct vportx_dport *port)
{
	bool ready;

	spin_lock_irq(&port->lock);
	rx_collect(port);
	ready = !list_empty(&port->rx_ready);
	spin_unlock_irq(&port->lock);
	return ready;
}

static bool rx_waitable(struct vportx_dport *port)
{
	return rx_has_data(port) || READ_ONCE(port->gone) ||
	       !READ_ONCE(port->host_connected);
}

/*
 * Nothing to read: 0 at end of file (no host), ENODEV once the port is
 * gone, EAGAIN without waiting, or 1 once there may be data.
 */
static int rx_empty(struct vportx_node *node, bool nonblock)
{
	struct vportx_dport *port = node->backend;

	if (READ_ONCE(port->gone))
		return -ENODEV;
	/* What the host sent before it went is read before end of file. */
	if (!READ_ONCE(port->host_connected))
		return rx_has_data(port);
	if (nonblock)
		return -EAGAIN;
	if (wait_event_interruptible(node->wq, rx_waitable(port)))
		return -ERESTARTSYS;
	return 1;
}

/* Copy out of the reader's buffer; a buffer read to its end goes back. */
static ssize_t rx_copy(struct vportx_dport *port, void *to, size_t len)
{
	char __user *buf = (__force char __user *)to;
	size_t n = min_t(size_t, len, port->rx_len - port->rx_off);

	if (copy_to_user(buf, page_address(port->rx_page) + port->rx_off, n))
		return -EFAULT;
	port->rx_off += n;
	if (port->rx_off == port->rx_len)
		rx_put(port);
	return n;
}

/*
 * Put up to @len bytes of rx_page into the pipe @to, as the page itself:
 * the pipe takes a reference of its own, so a failed add loses nothing.
 * 0 once the pipe is full.
 */
static ssize_t rx_gift(struct vportx_dport *port, void *to, size_t len)
{
	struct pipe_inode_info *pipe = to;
	struct pipe_buffer buf = {
		/* The core's: a pipe may outlive the module; no stealing. */
		.ops = &nosteal_pipe_buf_ops,
		.page = port->rx_page,
		.offset = port->rx_off,
		.len = min_t(size_t, len, port->rx_len - port->rx_off),
	};
	ssize_t ret;

	if (pipe_full(pipe->head, pipe->tail, pipe->max_usage))
		return 0;
	get_page(buf.page);
	ret = add_to_pipe(pipe, &buf);
	if (ret <= 0)
		return ret;
	port->rx_off += ret;
	if (port->rx_off == port->rx_len)
		rx_put(port);
	return ret;
}

/*
 * read() and splice_read(): @take moves up to @len bytes of the reader's
 * buffer to @to (advanced by what it took for read(), a pipe for
 * splice_read()). The first buffer is waited for; the ones after it only
 * if they came. Buffers read to their end go back with one kick.
 */
static ssize_t rx_read(struct vportx_node *node, void *to, bool advance,
		       size_t len, bool nonblock,
		       ssize_t (*take)(struct vportx_dport *port, void *to,
				       size_t len))
{
	struct vportx_dport *port = node->backend;
	ssize_t got = 0, n = 0;

	while (got < len) {
		if (rx_get(port)) {
			n = take(port, advance ? to + got : to, len - got);
		} else if (!got) {
			n = rx_empty(node, nonblock);
			if (n > 0)
				continue;
		} else {
			break;
		}
		if (n <= 0)
			break;
		got += n;
	}
	rx_kick(port);
	return got ? got : n;
}

static ssize_t dport_read(struct vportx_node *node, char __user *buf,
			  size_t len, bool nonblock)
{
	return rx_read(node, (__force void *)buf, true, len, nonblock,
		       rx_copy);
}

/*
 * Filled pages go to the pipe as they are; fresh ones take their place.
 * splice_file_to_pipe() made room in the pipe first; a full one ends it.
 */
static ssize_t dport_splice_read(struct vportx_node *node,
				 struct pipe_inode_info *pipe, size_t len,
				 unsigned int flags, bool nonblock)
{
	return rx_read(node, pipe, false, len,
		       nonblock || (flags & SPLICE_F_NONBLOCK), rx_gift);
}

/*
 * Writers and splicers waiting for room may go on, and a push that found
 * none goes again. Under the lock.
 */
static void tx_wake(struct vportx_dport *port)
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
		tx_wake(port);
}

/* The host is back: what tx_give() put off goes now. */
static void tx_resume(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	tx_wake(port);
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
	if (port_queues(port))
		virtqueue_kick(port->out_vq);
	spin_unlock_irq(&port->lock);
}

/* Hand queued bytes to the device a contiguous piece at a time. */
static ssize_t dport_push(struct vportx_node *node, size_t len)
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
static ssize_t dport_splice_write(struct vportx_node *node,
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

/* Data arrived: wake the reader, and SIGIO if it had run dry. */
void vportx_dport_in_done(struct vportx_dport *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->lock, flags);
	if (port->node) {
		rx_ahead(port);
		wake_up_interruptible(&port->node->wq);
		if (port->rx_armed && READ_ONCE(port->node->fasync)) {
			port->rx_armed = false;
			vportx_node_readable(port->node);
		}
	}
	spin_unlock_irqrestore(&port->lock, flags);
}

/* The device used elements: drop their pages; a full port has room. */
void vportx_dport_out_done(struct vportx_dport *port)
{
	unsigned long flags;

	spin_lock_irqsave(&port->lock, flags);
	if (port_queues(port))
		tx_reclaim(port);
	spin_unlock_irqrestore(&port->lock, flags);
}

/* Open for the host: buffers to fill, and PORT_OPEN. */
static int port_open(struct vportx_dport *port)
{
	if (READ_ONCE(port->gone))
		return -ENODEV;
	rx_fill(port);
	return port_set_open(port, true);
}

/* A budget of @bytes, in buffers. Under the lock. */
static void rx_budget_set(struct vportx_dport *port, u32 bytes)
{
	port->rx_budget = bytes >> PAGE_SHIFT;
}

/*
 * A larger budget posts buffers at once; a smaller one takes effect as the
 * reader returns the buffers posted before it: a posted buffer cannot be
 * taken back from a running queue.
 */
static void dport_set_rx_budget(struct vportx_node *node, u32 bytes)
{
	struct vportx_dport *port = node->backend;
	bool fill;

	spin_lock_irq(&port->lock);
	rx_budget_set(port, bytes);
	fill = port->guest_open;
	spin_unlock_irq(&port->lock);
	if (fill)
		rx_fill(port);
}

/*
 * What the device filled and the reader has not taken: the buffers on
 * rx_ready, and the rest of the reader's own (read without its lock: a
 * figure for sysfs, not for the data path).
 */
static size_t dport_rx_queued(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	unsigned int len, off;
	struct page *page;
	size_t n = 0;

	spin_lock_irq(&port->lock);
	rx_collect(port);
	list_for_each_entry(page, &port->rx_ready, lru)
		n += page_private(page);
	spin_unlock_irq(&port->lock);
	len = READ_ONCE(port->rx_len);
	off = READ_ONCE(port->rx_off);
	if (READ_ONCE(port->rx_page) && off < len)
		n += len - off;
	return n;
}

/* Before anyone can find the node: the interrupts may now reach it. */
static void dport_start(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;

	spin_lock_irq(&port->lock);
	port->node = node;
	spin_unlock_irq(&port->lock);
}

/*
 * Open for the host, with the node's RX budget. What the port received
 * while closed, if anything, stays for the next reader: nothing is
 * discarded at close.
 */
static int dport_open_port(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;

	spin_lock_irq(&port->lock);
	rx_budget_set(port, node->params.rx_budget);
	spin_unlock_irq(&port->lock);
	return port_open(port);
}

static void dport_close_port(struct vportx_node *node)
{
	port_set_open(node->backend, false);
}

/* EPOLLIN with data or at end of file; EPOLLHUP without a host. */
static __poll_t dport_poll(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	__poll_t mask = 0;

	spin_lock_irq(&port->lock);
	if (port->gone) {
		mask = EPOLLHUP | EPOLLERR;
	} else {
		rx_collect(port);
		if (!READ_ONCE(port->host_connected))
			mask = EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	}
	if (READ_ONCE(port->rx_page) || !list_empty(&port->rx_ready))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock_irq(&port->lock);
	return mask;
}

/* The node goes: no interrupt reaches it any more. */
static void dport_destroy(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	bool open;

	spin_lock_irq(&port->lock);
	port->node = NULL;
	open = port->guest_open;
	spin_unlock_irq(&port->lock);
	if (open)
		port_set_open(port, false);
	vportx_dport_put(port);
}

static const struct vportx_backend_ops dport_ops = {
	.name = "direct",
	.id = VPORTX_BACKEND_DIRECT,
	.owns_node = true,
	.start = dport_start,
	.open_port = dport_open_port,
	.close_port = dport_close_port,
	.read = dport_read,
	.splice_read = dport_splice_read,
	.push = dport_push,
	.splice_write = dport_splice_write,
	.poll = dport_poll,
	.set_rx_budget = dport_set_rx_budget,
	.rx_queued = dport_rx_queued,
	.destroy = dport_destroy,
};

/*
 * Give the port a node, named after it as the stock driver would name
 * its own: vportxNpM for port M of virtioN. Under the device's lock.
 */
int vportx_dport_attach(struct vportx_dport *port)
{
	struct direct_dev *dd = port->dd;
	u32 minor;
	int ret;

	kref_get(&port->ref);
	ret = vportx_node_create(dd->vdev->index, port->id, 0, &dd->params,
				 &dport_ops, port, &dd->vdev->dev, &minor);
	if (ret) {
		vportx_dport_put(port);
		return ret;
	}
	if (port->name)
		vportx_node_set_name(port->node, port->name);
	if (port->host_connected)
		vportx_dport_host(port, true);
	return 0;
}

/*
 * PORT_OPEN from the device. Under the device's lock. A host that comes
 * back takes what writers queued meanwhile: tx_give() found no host.
 */
void vportx_dport_host(struct vportx_dport *port, bool connected)
{
	WRITE_ONCE(port->host_connected, connected);
	if (!port->node)
		return;
	vportx_node_port_state(port->node, connected, false);
	if (connected)
		tx_resume(port);
}

/*
 * The port was removed, or its device is going: keep what it received,
 * and from now on leave its queues alone. Under the device's lock.
 */
void vportx_dport_gone(struct vportx_dport *port)
{
	struct vportx_node *node;

	spin_lock_irq(&port->lock);
	rx_collect(port);
	port->gone = true;
	node = port->node;
	spin_unlock_irq(&port->lock);
	if (node)
		vportx_node_port_state(node, 0, true);
}

/*
 * The device is done with the port's queues: the port was removed, the
 * device is going (both after vportx_dport_gone()) or was reset for a
 * freeze. Keep what it filled for the reader (gone: that was done then),
 * take back every other buffer, and leave the queues alone from now on.
 */
void vportx_dport_drop_queues(struct vportx_dport *port)
{
	struct page *page;

	spin_lock_irq(&port->lock);
	if (!port->in_vq)
		goto out;	/* frozen: they went then */
	rx_collect(port);
	tx_reclaim(port);
	while ((page = virtqueue_detach_unused_buf(port->out_vq)))
		put_page(page);
	while ((page = virtqueue_detach_unused_buf(port->in_vq)))
		put_page(page);
	port->tx_inflight = 0;
	port->rx_posted = 0;
	port->in_vq = NULL;
	port->out_vq = NULL;
out:
	spin_unlock_irq(&port->lock);
	/* No interrupt queues it again: the queues are gone. */
	cancel_work_sync(&port->rx_work);
}

/*
 * Freezing: give the device no more buffers, so what it has of the port's
 * TX can drain. Under the device's lock.
 */
void vportx_dport_pause(struct vportx_dport *port)
{
	spin_lock_irq(&port->lock);
	port->paused = true;
	spin_unlock_irq(&port->lock);
}

/* The device has used every TX element the port gave it. */
bool vportx_dport_drained(struct vportx_dport *port)
{
	bool drained;

	spin_lock_irq(&port->lock);
	if (port_queues(port))
		tx_reclaim(port);
	drained = !port->tx_inflight;
	spin_unlock_irq(&port->lock);
	return drained;
}

/*
 * The port's device has its queues again (a restore), or kept them (a
 * freeze refused): post buffers, push what the writers queued meanwhile,
 * wake the waiters, and tell a reset device the port is open. Under the
 * device's lock.
 */
void vportx_dport_resume(struct vportx_dport *port)
{
	bool reset, fill;

	spin_lock_irq(&port->lock);
	reset = !port->in_vq;
	if (reset)
		port_find_queues(port);
	port->paused = false;
	fill = port->guest_open && !port->gone;
	tx_wake(port);
	spin_unlock_irq(&port->lock);
	if (fill)
		rx_fill(port);
	if (reset)
		port_reopen(port);
}
