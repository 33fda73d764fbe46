// SPDX-License-Identifier: GPL-2.0
/*
 * The stacked backend: a node over a /dev/vportNpM file of virtio_console.
 *
 * virtio_console exports nothing and its port files have .read and .write
 * but no read_iter, write_iter or splice_read, so the only ways in are the
 * port file's own file operations:
 *
 * - read() calls the port's read in the reader's context with the
 *   reader's buffer, as many times as the port has buffers ready;
 * - the TX work pushes the node's queue with do_splice_direct() from a
 *   file of ours whose splice_read lends the queue's pages to the pipe;
 *   the port's splice_write steals them, so the device reads the bytes
 *   where write() put them;
 * - splice into the node copies the pipe's bytes into the node's queue,
 *   as write() does (no splice_write here). The port's own splice_write
 *   would make each pipe buffer a buffer of the device's, which QEMU
 *   writes to the host with a socket call of its own: 4 KiB a call for a
 *   file's or a vmsplice'd page. The queue's pieces are 64 KiB: a copy
 *   in the guest costs less than 16 calls in QEMU, under TCG and likely
 *   under KVM (Documentation/performance.rst, "What changed, and what
 *   each change measured").
 *
 * vportx opens the port O_NONBLOCK and does all the waiting itself, on the
 * node's wait queue: nobody ever sleeps inside virtio_console, so the TX
 * work never blocks and a detach never waits for a host.
 *
 * Attaching takes the port's path, best from an O_PATH descriptor, and
 * opens nothing: an open of a stock port tells the host it is open, and
 * its close discards whatever the host sent meanwhile. The port is opened
 * from the path when the node core says (open_port), and closed when it
 * says (close_port). A caller that attaches with hold=always by an open
 * descriptor hands that open file over instead: the port stays open.
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/anon_inodes.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct vportx_stacked {
	struct path path;	/* the port's node, to open it */
	u32 port_dev;		/* its N and devt, to know it from a console */
	dev_t devt;
	/* Open port: from open_port to close_port, or handed over at attach. */
	struct file *port;
	struct file *queue;	/* ours: the TX queue, as do_splice_direct's input */
	struct vportx_node *node;

	/*
	 * Watching the open port: an entry on its wait queue, woken with it
	 * for data, space, host open/close and unplug, wakes the node's
	 * waiters and schedules work that reads the port's poll mask.
	 * vhost_poll does the same for its files.
	 */
	poll_table pt;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	bool watching;
	struct delayed_work watch_work;
	/* EPOLLIN and EPOLLOUT as the last poll of the port saw them. */
	atomic_t seen;
	/*
	 * Set by a reader before it looks for data, cleared by the watcher
	 * when it sees data: one SIGIO per time a reader ran dry, never lost
	 * to a reader that looked just before the data came.
	 */
	atomic_t sigio_armed;
};

/*
 * A node whose port is closed (hold=open, nobody has the node open) has no
 * port file that could tell it the port was unplugged. virtio_console's
 * ports are devices of its class "virtio-ports": a class interface hears
 * of each one's removal, under the class's mutex, so the node goes at once,
 * as the stock node does. It is registered while stacked nodes exist, and
 * pins virtio_console, the class's owner, meanwhile.
 *
 * Lock order: unplug_watch_lock, then the class's mutex, then nodes_lock
 * (node.c). Nothing takes unplug_watch_lock under another of them.
 */
static DEFINE_MUTEX(unplug_watch_lock);	/* guards the three below */
static unsigned int unplug_watch_users;	/* stacked nodes, being made too */
static struct module *unplug_watch_owner;

static void port_class_remove(VPORTX_CLASS_INTF_DEV)
{
	vportx_node_port_removed(dev->devt);
}

static struct class_interface unplug_watch = {
	.remove_dev = port_class_remove,
};

/* One more stacked node, of port device @dev; @owner: its driver's module. */
static int unplug_watch_get(struct device *dev, struct module *owner)
{
	int ret = 0;

	mutex_lock(&unplug_watch_lock);
	if (unplug_watch_users)
		goto out_count;
	ret = -ENODEV;
	if (!try_module_get(owner))
		goto out_unlock;
	unplug_watch.class = dev->class;
	ret = class_interface_register(&unplug_watch);
	if (ret) {
		module_put(owner);
		goto out_unlock;
	}
	unplug_watch_owner = owner;
out_count:
	unplug_watch_users++;
out_unlock:
	mutex_unlock(&unplug_watch_lock);
	return ret;
}

/*
 * Unregistering calls remove_dev for every port still there: by then no
 * stacked node is published, so vportx_node_port_removed() finds none.
 */
static void unplug_watch_put(void)
{
	mutex_lock(&unplug_watch_lock);
	if (!--unplug_watch_users) {
		class_interface_unregister(&unplug_watch);
		module_put(unplug_watch_owner);
		unplug_watch_owner = NULL;
	}
	mutex_unlock(&unplug_watch_lock);
}

/*
 * The port's poll mask. Polling a stock port takes used buffers off its
 * virtqueues; when that happens between the device using them and the
 * interrupt, the interrupt handler finds nothing used and wakes nobody.
 * So a poll that finds data or room the previous poll did not find does
 * the waking itself: the node's waiters, and the TX work for room.
 */
static __poll_t st_mask(struct vportx_stacked *st)
{
	__poll_t mask = vfs_poll(st->port, NULL);
	int now = (__force int)(mask & (EPOLLIN | EPOLLOUT));
	int before = atomic_xchg(&st->seen, now);

	if (now & ~before) {
		wake_up_interruptible(&st->node->wq);
		if (now & (__force int)EPOLLOUT)
			vportx_tx_kick(st->node);
	}
	return mask;
}

/* The port has @what, or is gone: an unplugged port polls as EPOLLHUP. */
static bool st_ready(struct vportx_stacked *st, __poll_t what)
{
	__poll_t mask = st_mask(st);

	return (mask & what) || mask == EPOLLHUP;
}

static ssize_t port_file_read(struct file *port, char __user *buf, size_t len)
{
	loff_t pos = 0;

	return port->f_op->read(port, buf, len, &pos);
}

/*
 * A stock read returns one 4 KiB port buffer at most. Keep reading while
 * the port says more is ready, so one read() drains all that has arrived;
 * only the first read waits. The port is O_NONBLOCK: it says EAGAIN, 0
 * with the host gone (end of file), or ENODEV once unplugged.
 */
static ssize_t stacked_read(struct vportx_node *node, char __user *buf,
			    size_t len, bool nonblock)
{
	struct vportx_stacked *st = node->backend;
	ssize_t got = 0, n;

	atomic_set(&st->sigio_armed, 1);
	n = port_file_read(st->port, buf, len);
	while (n == -EAGAIN && !nonblock) {
		if (wait_event_interruptible(node->wq,
					     st_ready(st, EPOLLIN)))
			return -ERESTARTSYS;
		n = port_file_read(st->port, buf, len);
	}
	while (n > 0) {
		got += n;
		if (got == len || !st_ready(st, EPOLLIN))
			break;
		n = port_file_read(st->port, buf + got, len - got);
	}
	return got ? got : n;
}

/*
 * The port took nothing: forget the room seen last, so that the next poll
 * to see room kicks the TX work.
 */
static void st_full(struct vportx_stacked *st)
{
	atomic_andnot((__force int)EPOLLOUT, &st->seen);
	st_mask(st);
}

/*
 * Push up to @len queued bytes. The port's splice_write takes them as one
 * element of up to a pipe's worth (16 pages) per call; do_splice_direct()
 * calls it until @len is pushed or the port is full.
 */
static ssize_t stacked_push(struct vportx_node *node, size_t len)
{
	struct vportx_stacked *st = node->backend;
	loff_t in = 0, out = 0;
	ssize_t n;

	n = do_splice_direct(st->queue, &in, st->port, &out, len, 0);
	if (n == -EAGAIN)
		st_full(st);
	return n;
}

/* The port's own write: one element of up to 32 KiB, or -EAGAIN. */
static ssize_t stacked_write_through(struct vportx_node *node,
				     const char __user *buf, size_t len)
{
	struct vportx_stacked *st = node->backend;
	loff_t pos = 0;
	ssize_t n = st->port->f_op->write(st->port, buf, len, &pos);

	if (n == -EAGAIN)
		st_full(st);
	return n;
}

/* EPOLLIN when data is ready, EPOLLHUP without a host, +EPOLLERR unplugged. */
static __poll_t stacked_poll(struct vportx_node *node)
{
	__poll_t mask = st_mask(node->backend);

	if (mask == EPOLLHUP)
		mask |= EPOLLERR;
	return mask & (EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR);
}

/* The queue file's splice_read: the queue's pages, lent to the pipe. */
static ssize_t queue_splice_read(struct file *file, loff_t *ppos,
				 struct pipe_inode_info *pipe, size_t len,
				 unsigned int flags)
{
	struct vportx_stacked *st = file->private_data;
	ssize_t n = vportx_txq_to_pipe(&st->node->txq, *ppos, pipe, len);

	*ppos += n;
	return n;
}

/*
 * No owner: the file is never in a descriptor table, and queue_put()
 * releases it before the module can go away.
 */
static const struct file_operations queue_fops = {
	.llseek = noop_llseek,	/* do_splice_direct() wants seekable input */
	.splice_read = queue_splice_read,
};

struct queue_put {
	struct work_struct work;
	struct file *file;
};

static void queue_put_work(struct work_struct *work)
{
	__fput_sync(container_of(work, struct queue_put, work)->file);
}

/*
 * Release the queue file now, not when the caller returns to user space as
 * fput() would: its file_operations are this module's, and rmmod frees
 * them before it returns. Only a kernel thread may __fput_sync().
 */
static void queue_put(struct file *file)
{
	struct queue_put put = { .file = file };

	if (current->flags & PF_KTHREAD) {
		__fput_sync(file);
		return;
	}
	INIT_WORK_ONSTACK(&put.work, queue_put_work);
	queue_work(system_unbound_wq, &put.work);
	flush_work(&put.work);
	destroy_work_on_stack(&put.work);
}

static void watch_work(struct work_struct *work)
{
	struct vportx_stacked *st = container_of(to_delayed_work(work),
						 struct vportx_stacked,
						 watch_work);
	__poll_t mask = st_mask(st);

	/* With EPOLLHUP, EPOLLIN only means EOF: that signal is POLL_HUP. */
	if ((mask & (EPOLLIN | EPOLLHUP)) == EPOLLIN &&
	    atomic_xchg(&st->sigio_armed, 0))
		vportx_node_readable(st->node);

	/* An unplugged port polls as EPOLLHUP alone; a lost host adds IN. */
	vportx_node_port_state(st->node, !(mask & EPOLLHUP), mask == EPOLLHUP);
}

/*
 * Under the port's wait queue lock, often in its interrupt handler: once
 * per element the host consumed while a writer streams, and once per
 * arrival. The node's waiters look at the port themselves. The TX work is
 * kicked only if the port was last found full: kicking it for every
 * element consumed would push each time the host caught up, which for a
 * writer streaming small writes halves the bytes per push. The watch work
 * is only for what nobody waits on: SIGIO, and the host's and the
 * device's state for sysfs and uevents. virtio_console says data and room
 * from its queues' interrupts, and the host's coming and going and an
 * unplug from its control work: while the host is there and nobody wants
 * SIGIO, a wake-up in hard interrupt context cannot change what the work
 * looks at, and queues nothing. Every other one queues it to run at once,
 * so a host that comes and goes again is seen coming. (It ran up to a
 * tick after every arrival before: beside a ping-pong the stacked node's
 * p99, pooled over 35,000 round trips, was 1,750 us against stock's 647;
 * without it 572 against 604. A delay of a second instead of a tick did
 * not help: 1,423 against 995.) It goes to the unbound workqueue, not to
 * this CPU's, which is often the reader's or writer's.
 */
static int watch_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		      void *key)
{
	struct vportx_stacked *st = container_of(wait, struct vportx_stacked,
						 wait);
	struct vportx_node *node = st->node;

	wake_up_interruptible(&node->wq);
	if (!(atomic_read(&st->seen) & (__force int)EPOLLOUT))
		vportx_tx_kick(node);
	if (READ_ONCE(node->fasync) || READ_ONCE(node->host_connected) != 1 ||
	    !in_hardirq())
		mod_delayed_work(vportx_wq, &st->watch_work, 0);
	return 0;
}

static void watch_queue(struct file *file, wait_queue_head_t *wqh,
			poll_table *pt)
{
	struct vportx_stacked *st = container_of(pt, struct vportx_stacked,
						 pt);

	st->wqh = wqh;
	add_wait_queue(wqh, &st->wait);
}

static void watch_start(struct vportx_stacked *st)
{
	st->watching = true;
	atomic_set(&st->sigio_armed, 1);
	vfs_poll(st->port, &st->pt);
	queue_delayed_work(vportx_wq, &st->watch_work, 0);
}

/*
 * After this, nothing runs on the port's behalf: it can be closed. The
 * work cancelled may have been the first to see the port unplugged: a
 * reader that got ENODEV from the port can close the node before the work
 * ran. With @look, the port's state is read once more, so that the node
 * still learns it is gone. Not on the way to freeing the node: its
 * removal work is cancelled already, and must not be queued again.
 */
static void watch_stop(struct vportx_stacked *st, bool look)
{
	bool unplugged;

	if (!st->watching)
		return;
	if (st->wqh)
		remove_wait_queue(st->wqh, &st->wait);
	cancel_delayed_work_sync(&st->watch_work);
	st->wqh = NULL;
	st->watching = false;
	unplugged = look && vfs_poll(st->port, NULL) == EPOLLHUP;
	vportx_node_port_state(st->node, unplugged ? 0 : -1, unplugged);
}

/* Has @fops what vportx uses of a stock port's file? */
static bool port_fops_ok(const struct file_operations *fops)
{
	return fops && fops->read && fops->write && fops->splice_write;
}

/*
 * Open the port from its path. Once the port is unplugged its number
 * falls back to virtio_console's per-device chrdev region, whose fops have
 * neither open nor read: that "opens" fine, so check what we got. ENXIO
 * for a port that is still there is a console port (stock says the same).
 */
static struct file *st_port_open(struct vportx_stacked *st)
{
	struct file *port = dentry_open(&st->path, O_RDWR | O_NONBLOCK,
					current_cred());
	struct device *dev;

	if (!IS_ERR(port) && !port_fops_ok(port->f_op)) {
		fput(port);
		port = ERR_PTR(-ENXIO);
	}
	if (port != ERR_PTR(-ENXIO))
		return port;
	dev = vportx_stock_port(st->port_dev, st->devt, NULL);
	if (!dev)
		vportx_node_port_state(st->node, 0, true);
	put_device(dev);
	return port;
}

/*
 * EBUSY if someone else has the port open; ENXIO for a console port, or
 * one that is gone (the node then goes too).
 */
static int stacked_open_port(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;
	struct file *port;

	st->node = node;
	if (!st->port) {
		port = st_port_open(st);
		if (IS_ERR(port))
			return PTR_ERR(port);
		st->port = port;
	}
	watch_start(st);
	return 0;
}

/* virtio_console's release drops what the port received and nobody read. */
static void stacked_close_port(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	watch_stop(st, true);
	fput(st->port);
	st->port = NULL;
}

/*
 * EPOLLIN without EPOLLHUP: bytes the host sent are waiting. With the host
 * gone the port polls EPOLLIN at end of file too, data or not: not busy.
 */
static bool stacked_port_busy(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	return (st_mask(st) & (EPOLLIN | EPOLLHUP)) == EPOLLIN;
}

static void stacked_free(struct vportx_stacked *st)
{
	if (st->port)
		fput(st->port);
	queue_put(st->queue);
	path_put(&st->path);
	unplug_watch_put();
	kfree(st);
}

static void stacked_destroy(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	watch_stop(st, false);
	stacked_free(st);
}

static const struct vportx_backend_ops stacked_ops = {
	.name = "stacked",
	.id = VPORTX_BACKEND_STACKED,
	.open_port = stacked_open_port,
	.close_port = stacked_close_port,
	.port_busy = stacked_port_busy,
	.read = stacked_read,
	.push = stacked_push,
	.write_through = stacked_write_through,
	.poll = stacked_poll,
	.destroy = stacked_destroy,
};

/*
 * Is @file a virtio-serial port of virtio_console: an O_PATH descriptor of
 * one, or one open for reading and writing? Its node must be named vportNpM,
 * as virtio_console names it (the /dev/virtio-ports/NAME links resolve to
 * that), with M its minor, and its device number must be that of a port
 * virtio_console made on virtioN: *@dev gets that port's device, with a
 * reference, and *@owner virtio_console's module.
 */
static int check_port(struct file *file, u32 *n, u32 *m,
		      struct device **dev, struct module **owner)
{
	struct inode *inode = file_inode(file);
	struct name_snapshot name;
	char tail;
	int found;

	if (!S_ISCHR(inode->i_mode))
		return -EINVAL;
	if (!(file->f_mode & FMODE_PATH) &&
	    (!port_fops_ok(file->f_op) ||
	     (file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	     (FMODE_READ | FMODE_WRITE)))
		return -EINVAL;
	/* A snapshot: the node may be renamed while we parse its name. */
	take_dentry_name_snapshot(&name, file->f_path.dentry);
	found = sscanf(name.name.name, "vport%up%u%c", n, m, &tail);
	release_dentry_name_snapshot(&name);
	if (found != 2 || *m != MINOR(inode->i_rdev))
		return -EINVAL;
	*dev = vportx_stock_port(*n, inode->i_rdev, owner);
	return *dev ? 0 : -EINVAL;
}

/*
 * hold=always by an open descriptor: the caller's open file becomes ours,
 * for the port allows one opener and the caller has it now, and closing
 * it would drop what the host sent. vportx waits for the port itself, so
 * the file must be O_NONBLOCK, like the one open_port opens.
 */
static void st_port_take(struct vportx_stacked *st, struct file *file)
{
	st->port = get_file(file);
	spin_lock(&file->f_lock);
	file->f_flags |= O_NONBLOCK;
	spin_unlock(&file->f_lock);
}

static struct vportx_stacked *stacked_new(struct file *file, u32 n)
{
	struct vportx_stacked *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return NULL;
	st->queue = anon_inode_getfile("[vportx-txq]", &queue_fops, st,
				       O_RDONLY);
	if (IS_ERR(st->queue)) {
		kfree(st);
		return NULL;
	}
	init_poll_funcptr(&st->pt, watch_queue);
	init_waitqueue_func_entry(&st->wait, watch_wake);
	INIT_DELAYED_WORK(&st->watch_work, watch_work);
	st->path = file->f_path;
	path_get(&st->path);
	st->port_dev = n;
	st->devt = file_inode(file)->i_rdev;
	return st;
}

/*
 * Attach the port at @fd, like LOOP_CONFIGURE attaches a backing file. The
 * caller's descriptor stays the caller's, except the hand-over above.
 */
int vportx_stacked_attach(int fd, const struct vportx_params *params,
			  struct vportx_attach *out)
{
	struct vportx_stacked *st;
	struct module *owner;
	struct device *dev;
	struct file *file;
	u32 n, m;
	int ret;

	/* fget_raw: O_PATH descriptors too. */
	file = fget_raw(fd);
	if (!file)
		return -EBADF;
	ret = check_port(file, &n, &m, &dev, &owner);
	if (ret)
		goto out_fput;
	ret = unplug_watch_get(dev, owner);
	put_device(dev);
	if (ret)
		goto out_fput;
	ret = -ENOMEM;
	st = stacked_new(file, n);
	if (!st)
		goto err_put_watch;
	if (vportx_params_hold(params) && !(file->f_mode & FMODE_PATH))
		st_port_take(st, file);
	ret = vportx_node_create(n, m, st->devt, params, &stacked_ops, st,
				 NULL, &out->minor);
	if (ret)
		goto err_free_state;
	out->port_dev = n;
	out->port_nr = m;
	goto out_fput;

err_free_state:
	stacked_free(st);
	goto out_fput;
err_put_watch:
	unplug_watch_put();
out_fput:
	fput(file);
	return ret;
}
