// SPDX-License-Identifier: GPL-2.0
/*
 * A node's TX path. A write after a pause is pushed at once by the writer
 * itself, on its own CPU, as a stock write is: nothing waits for another
 * CPU to wake up. With nothing queued before it, it goes straight through
 * the backend's write_through; otherwise, and for any write the port
 * cannot take now, write() copies into the node's queue (txq.c). Once
 * writes stream (VPORTX_TX_BURST of them, each within VPORTX_TX_GAP_NS of
 * the last), pushing each would cost more than the writes themselves: the
 * writer then only queues, pushes whole 64 KiB elements itself, and
 * leaves the rest to the node's TX work, started at most tx_coalesce_us
 * later, so the writes pile up and go to the port together. fsync(),
 * close and a full queue push at once.
 *
 * The TX work runs on an unbound workqueue and pushes a budget at a time,
 * so one busy port never holds up another. A writer that finds the queue
 * at its limit blocks, or gets EAGAIN, until the queue is down to its low
 * watermark.
 *
 * splice into the node waits until the queue is empty and then hands the
 * pipe to the backend, or, for a backend without splice_write, copies
 * the pipe's bytes into the queue: bytes reach the port in the order they
 * were given to the node, whether by write, splice, vmsplice or sendfile.
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/bvec.h>
#include <linux/jiffies.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/splice.h>
#include <linux/uio.h>

/* Bytes one TX work run pushes before it lets other ports' work run. */
#define VPORTX_TX_BUDGET SZ_1M
/* A whole element: what a writer pushes itself (see tx_push_inline()). */
#define VPORTX_TX_INLINE SZ_64K
/* When a push fails for a reason other than a full port, try again. */
#define VPORTX_TX_RETRY (HZ / 10)
/* Writes at most this far apart, from the end of one to the next, ... */
#define VPORTX_TX_GAP_NS (50 * NSEC_PER_USEC)
/* ... this many in a row, are a stream: coalesce the ones after them. */
#define VPORTX_TX_BURST 4

static void tx_work(struct work_struct *work);
static enum hrtimer_restart tx_timer_fn(struct hrtimer *timer);

void vportx_tx_init(struct vportx_node *node)
{
	vportx_txq_init(&node->txq, node->params.tx_limit,
			node->params.tx_low);
	INIT_DELAYED_WORK(&node->tx_work, tx_work);
	vportx_hrtimer_setup(&node->tx_timer, tx_timer_fn, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL);
	mutex_init(&node->tx_push_lock);
	spin_lock_init(&node->tx_run_lock);
	node->tx_drain_ms = VPORTX_TX_DRAIN_MS_DEFAULT;
	node->tx_coalesce_us = VPORTX_TX_COALESCE_US_DEFAULT;
	atomic64_set(&node->tx_pushes, 0);
	atomic64_set(&node->tx_stalls, 0);
	atomic64_set(&node->tx_dropped, 0);
}

/* Any context. Queues the TX work if the port is open. */
static void tx_queue(struct vportx_node *node, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&node->tx_run_lock, flags);
	if (node->tx_running)
		queue_delayed_work(vportx_wq, &node->tx_work, delay);
	spin_unlock_irqrestore(&node->tx_run_lock, flags);
}

/*
 * Any context: there may be bytes to push and room to push them to. Work
 * that is pending has not started yet, so it will see them: nothing to do
 * (that is the common case while a writer streams small writes).
 */
void vportx_tx_kick(struct vportx_node *node)
{
	if (!READ_ONCE(node->txq.queued))
		return;
	/* Bytes queued before the look: pairs with the pending bit's clear. */
	smp_mb();
	if (!delayed_work_pending(&node->tx_work))
		tx_queue(node, 0);
}

/* The port is open: the TX work may push. */
void vportx_tx_start(struct vportx_node *node)
{
	spin_lock_irq(&node->tx_run_lock);
	node->tx_running = true;
	spin_unlock_irq(&node->tx_run_lock);
	vportx_tx_kick(node);
}

/* After this the TX work neither runs nor gets queued: close the port. */
static void tx_stop(struct vportx_node *node)
{
	spin_lock_irq(&node->tx_run_lock);
	node->tx_running = false;
	spin_unlock_irq(&node->tx_run_lock);
	hrtimer_cancel(&node->tx_timer);
	cancel_delayed_work_sync(&node->tx_work);
}

/* A streamed write's time is up: push what piled up since. */
static enum hrtimer_restart tx_timer_fn(struct hrtimer *timer)
{
	vportx_tx_kick(container_of(timer, struct vportx_node, tx_timer));
	return HRTIMER_NORESTART;
}

/* A writer streams right now: its next bytes are coming soon. */
static bool tx_stream_on(struct vportx_node *node)
{
	return READ_ONCE(node->tx_burst) == VPORTX_TX_BURST &&
	       local_clock() - READ_ONCE(node->tx_last_write) <=
	       VPORTX_TX_GAP_NS;
}

/* Push within tx_coalesce_us, unless a push is on its way already. */
static void tx_defer(struct vportx_node *node)
{
	if (delayed_work_pending(&node->tx_work) ||
	    hrtimer_active(&node->tx_timer))
		return;
	hrtimer_start(&node->tx_timer,
		      ns_to_ktime(READ_ONCE(node->tx_coalesce_us) *
				  NSEC_PER_USEC),
		      HRTIMER_MODE_REL);
}

static void tx_drop(struct vportx_node *node)
{
	size_t dropped = vportx_txq_discard(&node->txq);

	if (!dropped)
		return;
	atomic64_add(dropped, &node->tx_dropped);
	dev_info_ratelimited(node->dev,
			     "dropped %zu bytes the port did not take\n",
			     dropped);
}

static void tx_pushed(struct vportx_node *node, size_t n)
{
	atomic64_inc(&node->tx_pushes);
	atomic64_add(n, &node->tx_bytes);
	if (vportx_txq_advance(&node->txq, n) || !READ_ONCE(node->txq.queued))
		wake_up_interruptible_poll(&node->wq, EPOLLOUT | EPOLLWRNORM);
}

/* How a TX work run ended: @n is the last push's result. */
static void tx_after(struct vportx_node *node, ssize_t n, size_t budget)
{
	/* Full port: the backend kicks us when it has room. Unplugged: done. */
	if (n == -EAGAIN || n == -ENODEV)
		return;
	if (n <= 0) {
		dev_warn_ratelimited(node->dev, "push failed (%zd), retrying\n",
				     n);
		tx_queue(node, VPORTX_TX_RETRY);
	} else if (!budget && READ_ONCE(node->txq.queued)) {
		if (tx_stream_on(node))
			tx_defer(node);
		else
			tx_queue(node, 0);
	}
}

/* Push queued bytes, up to *@budget: the last push's result. */
static ssize_t tx_push(struct vportx_node *node, size_t *budget)
{
	ssize_t n = 1;
	size_t queued;

	lockdep_assert_held(&node->tx_push_lock);
	while (*budget && (queued = READ_ONCE(node->txq.queued))) {
		n = node->ops->push(node, min_t(size_t, queued, *budget));
		if (n <= 0)
			break;
		tx_pushed(node, n);
		*budget -= min_t(size_t, n, *budget);
	}
	return n;
}

/*
 * One run pushes what is queued when it starts, up to the budget. Bytes
 * written meanwhile wait for the next run, which starts at once unless a
 * writer is streaming (tx_after()): chasing it push by push would cost
 * more than its writes.
 */
static void tx_work(struct work_struct *work)
{
	struct vportx_node *node = container_of(to_delayed_work(work),
						struct vportx_node, tx_work);
	size_t budget = min_t(size_t, VPORTX_TX_BUDGET,
			      READ_ONCE(node->txq.queued));
	ssize_t n;

	/* A stop is waiting for us: the port may not stay open. */
	if (!READ_ONCE(node->tx_running))
		return;
	mutex_lock(&node->tx_push_lock);
	n = tx_push(node, &budget);
	mutex_unlock(&node->tx_push_lock);
	tx_after(node, n, budget);
	/* Nobody has the node open to write more soon: let the pages go. */
	if (!READ_ONCE(node->open_count))
		vportx_txq_trim(&node->txq);
}

/*
 * A writer with whole elements queued pushes them itself, on its own CPU,
 * as a stock write does: for bulk writes that is cheaper than handing
 * them to the TX work on another CPU, and it leaves that CPU to the host.
 * What is left, less than an element, is the TX work's to coalesce with
 * the writes to come. Never waits: if the TX work is pushing, it pushes.
 */
static void tx_push_inline(struct vportx_node *node)
{
	size_t budget = rounddown(READ_ONCE(node->txq.queued),
				  VPORTX_TX_INLINE);

	if (!budget || !mutex_trylock(&node->tx_push_lock))
		return;
	tx_push(node, &budget);
	mutex_unlock(&node->tx_push_lock);
}

/*
 * A write that is not part of a stream: push everything now, here. If the
 * TX work has it in hand already, it takes these bytes along.
 */
static void tx_push_now(struct vportx_node *node)
{
	size_t budget = VPORTX_TX_BUDGET;
	ssize_t n;

	if (delayed_work_pending(&node->tx_work) ||
	    !mutex_trylock(&node->tx_push_lock)) {
		vportx_tx_kick(node);
		return;
	}
	n = tx_push(node, &budget);
	mutex_unlock(&node->tx_push_lock);
	tx_after(node, n, budget);
}

/*
 * A write after a pause, with nothing queued before it: hand the writer's
 * buffer to the backend's write_through, as a stock write would do, which
 * for one message costs less than queueing it and pushing it through
 * splice. Returns the bytes the port took, 0 if it took none and the
 * write is to be queued, or an error such as -EFAULT.
 */
static ssize_t tx_write_through(struct vportx_node *node,
				struct iov_iter *from)
{
	ssize_t n;

	if (!node->ops->write_through || !iter_is_ubuf(from) ||
	    READ_ONCE(node->txq.queued) ||
	    delayed_work_pending(&node->tx_work) ||
	    !mutex_trylock(&node->tx_push_lock))
		return 0;
	/* Checked again under the lock: no push may be half done. */
	n = READ_ONCE(node->txq.queued) ? 0 :
	    node->ops->write_through(node, from->ubuf + from->iov_offset,
				     iov_iter_count(from));
	mutex_unlock(&node->tx_push_lock);
	/* A bad buffer is the writer's error; anything else, try the queue. */
	if (n <= 0)
		return n == -EFAULT ? n : 0;
	iov_iter_advance(from, n);
	atomic64_inc(&node->tx_pushes);
	atomic64_add(n, &node->tx_bytes);
	return n;
}

/*
 * Is this write part of a stream? The gap is from the end of the last
 * write, pushes included, to now. Under tx_lock.
 */
static bool tx_streaming(struct vportx_node *node)
{
	if (local_clock() - node->tx_last_write > VPORTX_TX_GAP_NS)
		node->tx_burst = 0;
	else if (node->tx_burst < VPORTX_TX_BURST)
		node->tx_burst++;
	return node->tx_burst == VPORTX_TX_BURST;
}

/* The writer queued bytes: push them now, or let them pile up a while. */
static void tx_written(struct vportx_node *node)
{
	tx_push_inline(node);
	if (node->tx_burst == VPORTX_TX_BURST)
		tx_defer(node);
	else
		tx_push_now(node);
}

/*
 * The queue was full: have it pushed, count one stall per call (@stalled),
 * and wait for room. 0 once there may be room, -EAGAIN if @nonblock,
 * -ERESTARTSYS on a signal. Under tx_lock.
 */
static int tx_wait_room(struct vportx_node *node, bool nonblock,
			bool *stalled)
{
	vportx_tx_kick(node);
	if (!*stalled)
		atomic64_inc(&node->tx_stalls);
	*stalled = true;
	if (nonblock)
		return -EAGAIN;
	if (wait_event_interruptible(node->wq,
				     vportx_txq_writable(&node->txq) ||
				     READ_ONCE(node->unplugged)))
		return -ERESTARTSYS;
	return 0;
}

/*
 * Copy the rest of @from into the queue, waiting for room as needed, or as
 * much as fits without waiting if @nonblock; @done bytes of this write
 * went to the port already. Returns the bytes taken in all; ENODEV once
 * the port is unplugged, EAGAIN or ERESTARTSYS if none were taken.
 */
static ssize_t tx_write_queued(struct vportx_node *node,
			       struct iov_iter *from, bool nonblock,
			       ssize_t done)
{
	bool stalled = false;
	ssize_t n;
	int ret;

	for (;;) {
		if (READ_ONCE(node->unplugged))
			return done ? done : -ENODEV;
		n = vportx_txq_write(&node->txq, from);
		if (n > 0)
			done += n;
		if (n < 0 || !iov_iter_count(from)) {
			if (done)
				tx_written(node);
			return done ? done : n;
		}
		/* Full: push here what we can, and wait for the rest. */
		tx_push_inline(node);
		ret = tx_wait_room(node, nonblock, &stalled);
		if (ret)
			return done ? done : ret;
	}
}

/*
 * A write: straight to the port after a pause when nothing is queued,
 * otherwise into the queue (see the top of this file). Returns what
 * tx_write_queued() does.
 */
ssize_t vportx_tx_write(struct vportx_node *node, struct iov_iter *from,
			bool nonblock)
{
	ssize_t done = 0;

	if (!tx_streaming(node) && !READ_ONCE(node->unplugged)) {
		done = tx_write_through(node, from);
		if (done < 0 || !iov_iter_count(from))
			goto out;
	}
	done = tx_write_queued(node, from, nonblock, done);
out:
	node->tx_last_write = local_clock();
	return done;
}

static bool tx_drained(struct vportx_node *node)
{
	return !READ_ONCE(node->txq.queued) || READ_ONCE(node->unplugged);
}

/*
 * Wait up to @timeout, interruptibly, for the queue to empty. Returns 0
 * once it is empty, or -ERESTARTSYS, -ETIMEDOUT, or -ENODEV if the port
 * went away with bytes still queued.
 */
int vportx_tx_drain(struct vportx_node *node, long timeout)
{
	long left;

	vportx_tx_kick(node);
	left = wait_event_interruptible_timeout(node->wq, tx_drained(node),
						timeout);
	if (left < 0)
		return left;
	if (!READ_ONCE(node->txq.queued))
		return 0;
	return READ_ONCE(node->unplugged) ? -ENODEV : -ETIMEDOUT;
}

/* splice_from_pipe's actor: copy a pipe buffer into the queue. */
static int pipe_to_queue(struct pipe_inode_info *pipe, struct pipe_buffer *buf,
			 struct splice_desc *sd)
{
	struct vportx_node *node = sd->u.data;
	struct bio_vec bv = {
		.bv_page = buf->page,
		.bv_offset = buf->offset,
		.bv_len = sd->len,
	};
	struct iov_iter from;
	ssize_t n;

	iov_iter_bvec(&from, WRITE, &bv, 1, sd->len);
	n = vportx_txq_write(&node->txq, &from);
	return n ? n : -EAGAIN;
}

/*
 * splice for a backend without splice_write: the pipe's bytes are copied
 * into the queue, as write() copies a user buffer, and the TX work pushes
 * them. Never here: under sendfile() the pipe is the task's own
 * (current->splice_pipe), which the stacked backend's push, itself a
 * do_splice_direct(), would use as well.
 */
static ssize_t tx_splice_queued(struct vportx_node *node,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags, bool nonblock)
{
	struct splice_desc sd = {
		.total_len = len,
		.flags = flags,
		.u.data = node,
	};
	bool stalled = false;
	ssize_t ret;

	for (;;) {
		if (READ_ONCE(node->unplugged))
			return -ENODEV;
		pipe_lock(pipe);
		ret = __splice_from_pipe(pipe, &sd, pipe_to_queue);
		pipe_unlock(pipe);
		if (ret != -EAGAIN)
			break;
		ret = tx_wait_room(node, nonblock, &stalled);
		if (ret)
			return ret;
	}
	if (ret > 0)
		vportx_tx_kick(node);
	node->tx_last_write = local_clock();
	return ret;
}

/* After whatever was written before, straight to the port. */
ssize_t vportx_tx_splice(struct vportx_node *node,
			 struct pipe_inode_info *pipe, size_t len,
			 unsigned int flags, bool nonblock)
{
	ssize_t ret;

	if (!node->ops->splice_write)
		return tx_splice_queued(node, pipe, len, flags, nonblock);
	if (READ_ONCE(node->txq.queued)) {
		if (nonblock) {
			vportx_tx_kick(node);
			return -EAGAIN;
		}
		ret = vportx_tx_drain(node, MAX_SCHEDULE_TIMEOUT);
		if (ret && ret != -ENODEV)
			return ret;
	}
	ret = node->ops->splice_write(node, pipe, len, flags, nonblock);
	if (ret > 0)
		atomic64_add(ret, &node->tx_bytes);
	return ret;
}

/*
 * Before the port closes: nothing pushes from now on, what is still
 * queued is dropped, and an empty queue holds no pages.
 */
void vportx_tx_stop(struct vportx_node *node)
{
	tx_stop(node);
	tx_drop(node);
	vportx_txq_trim(&node->txq);
}
