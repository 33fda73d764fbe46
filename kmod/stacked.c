// SPDX-License-Identifier: GPL-2.0
/*
 * The stacked backend: a node over a /dev/vportNpM file of virtio_console.
 *
 * virtio_console exports nothing and its port files have .read and .write
 * but no read_iter, write_iter or splice_read, so the only ways in are the
 * port file's own file operations. Reads and writes call them in the
 * caller's context with the caller's buffer; splice_write hands the
 * caller's pipe to the port's splice_write, which takes gifted pages
 * without copying.
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/path.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct vportx_stacked {
	struct path path;	/* the port's node, to reopen it */
	const struct file_operations *fops;	/* the port's, at attach */
	struct file *held;	/* hold=always: open from attach to detach */
	struct file *port;	/* the open port while the node is open */
	struct vportx_node *node;

	/*
	 * Watching the open port: an entry on its wait queue, woken with it
	 * for data, space, host open/close and unplug, schedules work that
	 * reads the port's poll mask. vhost_poll does the same for its files.
	 */
	poll_table pt;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	struct file *watched;
	struct work_struct watch_work;
	/*
	 * Set by a reader before it looks for data, cleared by the watcher
	 * when it sees data: one SIGIO per time a reader ran dry, never lost
	 * to a reader that looked just before the data came.
	 */
	atomic_t sigio_armed;
};

static struct file *port_of(struct vportx_node *node)
{
	return ((struct vportx_stacked *)node->backend)->port;
}

/*
 * The port's poll mask. Polling a stock port takes used buffers off its
 * virtqueues; when that happens between the device using them and the
 * interrupt, the interrupt handler finds nothing used and wakes nobody,
 * and a reader or writer asleep in the port sleeps on with data or space
 * there. So whenever the mask says there is something to wake for, wake
 * the port's sleepers ourselves. The wake is keyed: our watcher, which
 * only wants virtio_console's own (unkeyed) wake-ups, ignores it.
 */
static __poll_t port_mask(struct vportx_stacked *st, struct file *port,
			  poll_table *pt)
{
	__poll_t mask = vfs_poll(port, pt);
	__poll_t wake = mask & (EPOLLIN | EPOLLOUT);

	if (wake && st->wqh)
		wake_up_interruptible_poll(st->wqh, wake);
	return mask;
}

static bool port_ready(struct vportx_node *node, __poll_t what)
{
	struct vportx_stacked *st = node->backend;

	if (what & EPOLLIN)
		atomic_set(&st->sigio_armed, 1);
	return port_mask(st, port_of(node), NULL) & what;
}

static ssize_t port_read(struct file *port, char __user *buf, size_t len)
{
	loff_t pos = 0;

	return port->f_op->read(port, buf, len, &pos);
}

/*
 * A stock read returns one 4 KiB port buffer at most. Keep reading while
 * the port says more is ready, so one read() drains all that has arrived;
 * only the first call may block.
 */
static ssize_t stacked_read(struct vportx_node *node, char __user *buf,
			    size_t len, bool nonblock)
{
	struct file *port = port_of(node);
	ssize_t got = 0, n;

	if (nonblock && !port_ready(node, EPOLLIN))
		return -EAGAIN;
	n = port_read(port, buf, len);
	while (n > 0) {
		got += n;
		if (got == len || !port_ready(node, EPOLLIN))
			break;
		n = port_read(port, buf + got, len - got);
	}
	return got ? got : n;
}

/* A stock write takes 32 KiB at most: loop until all of it is taken. */
static ssize_t stacked_write(struct vportx_node *node, const char __user *buf,
			     size_t len, bool nonblock)
{
	struct file *port = port_of(node);
	ssize_t done = 0, n = 0;
	loff_t pos = 0;

	while (done < len) {
		if (nonblock && !port_ready(node, EPOLLOUT)) {
			n = -EAGAIN;
			break;
		}
		n = port->f_op->write(port, buf + done, len - done, &pos);
		if (n <= 0)
			break;
		done += n;
		if (signal_pending(current))
			break;
	}
	return done ? done : n;
}

static ssize_t stacked_splice_write(struct vportx_node *node,
				    struct pipe_inode_info *pipe, size_t len,
				    unsigned int flags, bool nonblock)
{
	struct file *port = port_of(node);
	loff_t pos = 0;

	if (nonblock && !port_ready(node, EPOLLOUT))
		return -EAGAIN;
	return port->f_op->splice_write(pipe, port, &pos, len, flags);
}

static __poll_t stacked_poll(struct vportx_node *node, struct file *file,
			     poll_table *wait)
{
	return port_mask(node->backend, port_of(node), wait);
}

static void watch_work(struct work_struct *work)
{
	struct vportx_stacked *st = container_of(work, struct vportx_stacked,
						 watch_work);
	__poll_t mask = port_mask(st, st->watched, NULL);

	/* With EPOLLHUP, EPOLLIN only means EOF: that signal is POLL_HUP. */
	if ((mask & (EPOLLIN | EPOLLHUP)) == EPOLLIN &&
	    atomic_xchg(&st->sigio_armed, 0))
		vportx_node_readable(st->node);

	/* An unplugged port polls as EPOLLHUP alone; a lost host adds IN. */
	vportx_node_port_state(st->node, !(mask & EPOLLHUP), mask == EPOLLHUP);
}

static int watch_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		      void *key)
{
	struct vportx_stacked *st = container_of(wait, struct vportx_stacked,
						 wait);

	/* Keyed wakes are port_mask()'s own: nothing new to look at. */
	if (!key)
		schedule_work(&st->watch_work);
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

static void watch_start(struct vportx_stacked *st, struct file *port)
{
	st->watched = port;
	atomic_set(&st->sigio_armed, 1);
	vfs_poll(port, &st->pt);
	schedule_work(&st->watch_work);
}

/* After this, nothing runs on the port's behalf: it can be closed. */
static void watch_stop(struct vportx_stacked *st)
{
	if (!st->watched)
		return;
	if (st->wqh)
		remove_wait_queue(st->wqh, &st->wait);
	cancel_work_sync(&st->watch_work);
	st->wqh = NULL;
	st->watched = NULL;
	vportx_node_port_state(st->node, -1, false);
}

static void stacked_start(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	st->node = node;
	if (st->held)
		watch_start(st, st->held);
}

/*
 * Reopen the port from its path. Once the port is unplugged its number
 * falls back to virtio_console's per-device chrdev region, whose fops have
 * neither open nor read: that "opens" fine, so check whose file we got.
 */
static struct file *port_reopen(struct vportx_stacked *st)
{
	struct file *port = dentry_open(&st->path, O_RDWR, current_cred());

	if (!IS_ERR(port) && port->f_op != st->fops) {
		fput(port);
		port = ERR_PTR(-ENXIO);
	}
	return port;
}

/* hold=open opens the port with the node; EBUSY if someone else has it. */
static int stacked_open(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;
	struct file *port = st->held;

	if (!port)
		port = port_reopen(st);
	/* ENXIO: virtio_console has no port behind the number any more. */
	if (port == ERR_PTR(-ENXIO))
		vportx_node_port_state(node, 0, true);
	if (IS_ERR(port))
		return PTR_ERR(port);
	if (!st->held)
		watch_start(st, port);
	st->port = port;
	return 0;
}

static void stacked_release(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	if (!st->held) {
		watch_stop(st);
		fput(st->port);
	}
	st->port = NULL;
}

static void stacked_free(struct vportx_stacked *st)
{
	if (st->held)
		fput(st->held);
	path_put(&st->path);
	kfree(st);
}

static void stacked_destroy(struct vportx_node *node)
{
	struct vportx_stacked *st = node->backend;

	watch_stop(st);
	stacked_free(st);
}

static const struct vportx_backend_ops stacked_ops = {
	.name = "stacked",
	.start = stacked_start,
	.open = stacked_open,
	.release = stacked_release,
	.read = stacked_read,
	.write = stacked_write,
	.splice_write = stacked_splice_write,
	.poll = stacked_poll,
	.destroy = stacked_destroy,
};

/*
 * Is @file a virtio-serial port of virtio_console, open for reading and
 * writing? Its node must be named vportNpM, as virtio_console names it (the
 * /dev/virtio-ports/NAME links resolve to that), with M its minor.
 */
static int check_port(struct file *file, u32 *n, u32 *m)
{
	const struct file_operations *fops = file->f_op;
	struct inode *inode = file_inode(file);
	struct name_snapshot name;
	char tail;
	int found;

	if (file->f_mode & FMODE_PATH || !S_ISCHR(inode->i_mode))
		return -EINVAL;
	if (!fops || !fops->owner || !fops->read || !fops->write ||
	    strcmp(module_name(fops->owner), "virtio_console"))
		return -EINVAL;
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		return -EINVAL;
	/* A snapshot: the node may be renamed while we parse its name. */
	take_dentry_name_snapshot(&name, file->f_path.dentry);
	found = sscanf(name.name.name, "vport%up%u%c", n, m, &tail);
	release_dentry_name_snapshot(&name);
	if (found != 2 || *m != MINOR(inode->i_rdev))
		return -EINVAL;
	return 0;
}

static struct vportx_stacked *stacked_new(struct file *file, u32 hold)
{
	struct vportx_stacked *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return NULL;
	init_poll_funcptr(&st->pt, watch_queue);
	init_waitqueue_func_entry(&st->wait, watch_wake);
	INIT_WORK(&st->watch_work, watch_work);
	st->path = file->f_path;
	path_get(&st->path);
	st->fops = file->f_op;
	if (hold != VPORTX_HOLD_ALWAYS)
		return st;
	/*
	 * The caller's open file becomes ours: the port allows one opener and
	 * the caller has it now. Our reads and writes block unless the node
	 * is non-blocking, so the file must not be O_NONBLOCK.
	 */
	st->held = get_file(file);
	spin_lock(&file->f_lock);
	file->f_flags &= ~O_NONBLOCK;
	spin_unlock(&file->f_lock);
	return st;
}

/* Attach the port open at @fd, like LOOP_CONFIGURE attaches a backing file. */
int vportx_stacked_attach(int fd, const struct vportx_params *params,
			  struct vportx_attach *out)
{
	struct vportx_stacked *st;
	struct file *file;
	u32 n, m;
	int ret;

	/* fget_raw: an O_PATH descriptor is a wrong file, not a bad fd. */
	file = fget_raw(fd);
	if (!file)
		return -EBADF;
	ret = check_port(file, &n, &m);
	if (ret)
		goto out_fput;
	ret = -ENOMEM;
	st = stacked_new(file, params->hold);
	if (!st)
		goto out_fput;
	ret = vportx_node_create(n, m, file_inode(file)->i_rdev, params,
				 &stacked_ops, st, &out->minor);
	if (ret)
		goto err_free_state;
	out->port_dev = n;
	out->port_nr = m;
	goto out_fput;

err_free_state:
	stacked_free(st);
out_fput:
	fput(file);
	return ret;
}
