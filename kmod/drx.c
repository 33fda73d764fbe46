// SPDX-License-Identifier: GPL-2.0
/*
 * A direct port's receive side. A port has a budget of page-sized
 * buffers (the node's rx_budget), posted to the device or filled and not
 * yet read. A buffer goes back to the device only once the reader has
 * taken all of it: when the reader stops, so does the host, which keeps
 * the rest in its own socket, and nothing is lost. A budget larger than
 * the receive queue is met by taking the filled buffers off the queue as
 * they come and posting fresh ones (rx_work), reader or not. read()
 * copies across buffers; splice_read() hands the filled pages themselves
 * to the pipe and posts others in their place: pages the pipe has given
 * back (rx_lent), fresh ones only when none has come back yet.
 *
 * Locking: the port's lock, taken in the queue's interrupt, guards the
 * queue and the buffer lists; the node's rx_lock makes one reader at a
 * time the owner of rx_page.
 */

#include "direct.h"

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/scatterlist.h>
#include <linux/splice.h>
#include <linux/uaccess.h>

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
void vportx_drx_collect(struct vportx_dport *port)
{
	unsigned int len;
	struct page *page;

	if (!dport_queues(port))
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
	if (port->rx_kick_due && dport_queues(port))
		virtqueue_kick(port->in_vq);
	port->rx_kick_due = false;
	spin_unlock_irq(&port->lock);
}

/* Buffers the device filled count as held: they left the queue. */
static bool rx_wants(struct vportx_dport *port)
{
	bool wants;

	spin_lock_irq(&port->lock);
	vportx_drx_collect(port);
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
void vportx_drx_fill(struct vportx_dport *port)
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
	vportx_drx_fill(container_of(work, struct vportx_dport, rx_work));
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
	vportx_drx_collect(port);
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
	vportx_drx_collect(port);
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
	vportx_drx_fill(port);
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
	vportx_drx_collect(port);
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

ssize_t vportx_drx_read(struct vportx_node *node, char __user *buf,
			size_t len, bool nonblock)
{
	return rx_read(node, (__force void *)buf, true, len, nonblock,
		       rx_copy);
}

/*
 * Filled pages go to the pipe as they are; fresh ones take their place.
 * splice_file_to_pipe() made room in the pipe first; a full one ends it.
 */
ssize_t vportx_drx_splice_read(struct vportx_node *node,
			       struct pipe_inode_info *pipe, size_t len,
			       unsigned int flags, bool nonblock)
{
	return rx_read(node, pipe, false, len,
		       nonblock || (flags & SPLICE_F_NONBLOCK), rx_gift);
}

/* Data arrived: wake the reader, and SIGIO if it had run dry. */
void vportx_drx_done(struct vportx_dport *port)
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
void vportx_drx_set_budget(struct vportx_node *node, u32 bytes)
{
	struct vportx_dport *port = node->backend;
	bool fill;

	spin_lock_irq(&port->lock);
	rx_budget_set(port, bytes);
	fill = port->guest_open;
	spin_unlock_irq(&port->lock);
	if (fill)
		vportx_drx_fill(port);
}

/*
 * What the device filled and the reader has not taken: the buffers on
 * rx_ready, and the rest of the reader's own (read without its lock: a
 * figure for sysfs, not for the data path).
 */
size_t vportx_drx_queued(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	unsigned int len, off;
	struct page *page;
	size_t n = 0;

	spin_lock_irq(&port->lock);
	vportx_drx_collect(port);
	list_for_each_entry(page, &port->rx_ready, lru)
		n += page_private(page);
	spin_unlock_irq(&port->lock);
	len = READ_ONCE(port->rx_len);
	off = READ_ONCE(port->rx_off);
	if (READ_ONCE(port->rx_page) && off < len)
		n += len - off;
	return n;
}

/* EPOLLIN with data or at end of file; EPOLLHUP without a host. */
__poll_t vportx_drx_poll(struct vportx_node *node)
{
	struct vportx_dport *port = node->backend;
	__poll_t mask = 0;

	spin_lock_irq(&port->lock);
	if (port->gone) {
		mask = EPOLLHUP | EPOLLERR;
	} else {
		vportx_drx_collect(port);
		if (!READ_ONCE(port->host_connected))
			mask = EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	}
	if (READ_ONCE(port->rx_page) || !list_empty(&port->rx_ready))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock_irq(&port->lock);
	return mask;
}

/* A new port: nothing read yet, so the first data is news to SIGIO. */
void vportx_drx_init(struct vportx_dport *port)
{
	INIT_LIST_HEAD(&port->rx_ready);
	INIT_LIST_HEAD(&port->rx_lent);
	INIT_WORK(&port->rx_work, rx_refill);
	port->rx_armed = true;
}

static void free_page_list(struct list_head *pages)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, pages, lru)
		put_page(page);
}

/* The port's last reference is gone, and with it every reader. */
void vportx_drx_free(struct vportx_dport *port)
{
	free_page_list(&port->rx_ready);
	free_page_list(&port->rx_lent);
	if (port->rx_page)
		put_page(port->rx_page);
}

/*
 * The device is done with the receive queue: keep what it filled for the
 * reader and take back the buffers it did not. Under the port's lock.
 */
void vportx_drx_drop(struct vportx_dport *port)
{
	struct page *page;

	vportx_drx_collect(port);
	while ((page = virtqueue_detach_unused_buf(port->in_vq)))
		put_page(page);
	port->rx_posted = 0;
}
