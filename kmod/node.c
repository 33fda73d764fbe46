// SPDX-License-Identifier: GPL-2.0
/*
 * The node core: one /dev/vportxNpM per attached port, its minor, its
 * device in class "vportx", its file operations and its counters. The
 * bytes themselves are the backend's business (struct vportx_backend_ops).
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/cdev.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#define VPORTX_MINORS 1024

/*
 * Guards the node table, the hidden list and every node's open_count, and
 * nothing else: it is never held across a backend's op that may sleep for
 * long (opening or closing a port), so INFO and sysfs on one node never
 * wait behind another's open. Locking in vportx.h.
 */
static DEFINE_MUTEX(nodes_lock);
static DEFINE_IDR(nodes);
/*
 * Nodes not in the table's sight: being created, or on their way out and
 * not yet freed. Their minors stay reserved in it (NULL) and their names
 * taken until their device is gone: device_create() would warn of a
 * duplicate otherwise, and two attaches of one port would both go on.
 */
static LIST_HEAD(hidden_nodes);
static dev_t vportx_devt;
static struct cdev vportx_cdev;
static struct class *vportx_class;
/* Ours, so module exit can wait for work still under way. */
struct workqueue_struct *vportx_wq;

/* Hide @node from open, INFO and the table's walks; keep its minor. */
static void node_unpublish(struct vportx_node *node)
{
	lockdep_assert_held(&nodes_lock);
	idr_replace(&nodes, NULL, node->minor);
	list_add(&node->hidden, &hidden_nodes);
}

/* Show a node that node_hide_new() kept out of sight while it was made. */
static void node_publish(struct vportx_node *node)
{
	lockdep_assert_held(&nodes_lock);
	list_del(&node->hidden);
	idr_replace(&nodes, node, node->minor);
}

/* Does a node, published or hidden, have the name vportx@devp@nr? */
static bool name_taken(u32 dev, u32 nr)
{
	struct vportx_node *node;
	int id;

	lockdep_assert_held(&nodes_lock);
	idr_for_each_entry(&nodes, node, id)
		if (node->port_dev == dev && node->port_nr == nr)
			return true;
	list_for_each_entry(node, &hidden_nodes, hidden)
		if (node->port_dev == dev && node->port_nr == nr)
			return true;
	return false;
}

static bool port_attached(dev_t port_devt)
{
	struct vportx_node *node;
	int id;

	lockdep_assert_held(&nodes_lock);
	if (!port_devt)		/* a backend that has no port file */
		return false;
	idr_for_each_entry(&nodes, node, id)
		if (node->port_devt == port_devt)
			return true;
	return false;
}

/* A node is attached to a port of the virtio device virtio@port_dev. */
bool vportx_node_on_device(u32 port_dev)
{
	struct vportx_node *node;
	bool ret = false;
	int id;

	mutex_lock(&nodes_lock);
	idr_for_each_entry(&nodes, node, id)
		if (node->port_dev == port_dev)
			ret = true;
	mutex_unlock(&nodes_lock);
	return ret;
}

/*
 * Does a closed node of a port of virtio@port_dev hold bytes the host sent
 * and nobody read? Only a backend that reads its port itself can say.
 */
bool vportx_node_unread_closed(u32 port_dev)
{
	struct vportx_node *node;
	bool ret = false;
	int id;

	mutex_lock(&nodes_lock);
	idr_for_each_entry(&nodes, node, id)
		if (node->port_dev == port_dev && !node->open_count &&
		    node->ops->rx_queued && node->ops->rx_queued(node))
			ret = true;
	mutex_unlock(&nodes_lock);
	return ret;
}

/*
 * The one hold decision: does the port stay open while the node is
 * closed? With hold=always the host sees the port open from attach to
 * detach; with hold=open only while an application has the node open,
 * as it would see the stock node (Documentation/vportx.rst, "Hold").
 */
static bool node_holds(const struct vportx_node *node)
{
	return vportx_params_hold(&node->params);
}

/*
 * The same decision for a node about to be made with @params: its port
 * is open from the node's creation. The stacked backend asks it to know
 * whether the caller's open port is to be taken over as it is.
 */
bool vportx_params_hold(const struct vportx_params *params)
{
	return params->hold == VPORTX_HOLD_ALWAYS;
}

/* The host sees the port open from now on, and TX may push to it. */
static int node_port_open(struct vportx_node *node)
{
	int ret;

	lockdep_assert_held(&node->port_lock);
	ret = node->ops->open_port(node);
	if (ret)
		return ret;
	WRITE_ONCE(node->port_open, true);
	vportx_tx_start(node);
	return 0;
}

/* TX stops pushing before the backend closes the port. */
static void node_port_close(struct vportx_node *node)
{
	lockdep_assert_held(&node->port_lock);
	if (!node->port_open)
		return;
	vportx_tx_stop(node);
	node->ops->close_port(node);
	WRITE_ONCE(node->port_open, false);
}

/* Closing the port now would drop bytes the host sent (stacked). */
static bool node_port_busy(struct vportx_node *node)
{
	return node->port_open && node->ops->port_busy &&
	       node->ops->port_busy(node);
}

/* Give the TX queue up to tx_drain_ms, and until a signal, to drain. */
static void node_tx_drain(struct vportx_node *node)
{
	vportx_tx_drain(node, msecs_to_jiffies(READ_ONCE(node->tx_drain_ms)));
}

/*
 * Make @minor's node ours alone: an open, or a hold change. While
 * open_count says so nobody else opens it, detaches it or frees it.
 */
static struct vportx_node *node_reserve(u32 minor)
{
	struct vportx_node *node;
	int ret = -ENXIO;

	mutex_lock(&nodes_lock);
	node = idr_find(&nodes, minor);
	if (!node)
		goto out;
	/*
	 * An unplugged port's node is on its way out; ENXIO like stock. Its
	 * removal may have found it not yet published: try again.
	 */
	if (node->unplugged) {
		queue_work(vportx_wq, &node->remove_work);
		goto out;
	}
	/* Exclusive like the stock node: two readers would split the stream. */
	ret = -EBUSY;
	if (node->open_count)
		goto out;
	node->open_count++;
	ret = 0;
out:
	mutex_unlock(&nodes_lock);
	return ret ? ERR_PTR(ret) : node;
}

static void node_free(struct vportx_node *node);
static void node_remove_work(struct work_struct *work);
static bool unpublish_unplugged(struct vportx_node *node);

/* Undo node_reserve(); the node goes if its port went meanwhile. */
static void node_unreserve(struct vportx_node *node)
{
	bool gone;

	mutex_lock(&nodes_lock);
	node->open_count--;
	gone = unpublish_unplugged(node);
	mutex_unlock(&nodes_lock);
	if (gone)
		node_free(node);
}

static int vportx_open(struct inode *inode, struct file *file)
{
	struct vportx_node *node = node_reserve(iminor(inode));
	int ret;

	if (IS_ERR(node))
		return PTR_ERR(node);
	mutex_lock(&node->port_lock);
	ret = node_holds(node) ? 0 : node_port_open(node);
	mutex_unlock(&node->port_lock);
	if (ret) {
		node_unreserve(node);
		return ret;
	}
	file->private_data = node;
	stream_open(inode, file);
	/*
	 * io_uring writes inline, with IOCB_NOWAIT, to a file that says it
	 * honours it (vportx_write_iter() does), instead of handing every
	 * write to a worker thread.
	 */
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

/* Unpublish @node if its port is gone and nobody has it open. */
static bool unpublish_unplugged(struct vportx_node *node)
{
	lockdep_assert_held(&nodes_lock);
	if (!node->unplugged || node->open_count ||
	    idr_find(&nodes, node->minor) != node)
		return false;
	node_unpublish(node);
	return true;
}

static int vportx_release(struct inode *inode, struct file *file)
{
	struct vportx_node *node = file->private_data;

	/*
	 * Under no lock: it may wait. With hold=open what is still queued
	 * when the drain gives up is dropped as the port closes; with
	 * hold=always the TX work goes on pushing, and trims once done.
	 */
	if (node_holds(node))
		vportx_txq_trim(&node->txq);
	else
		node_tx_drain(node);
	mutex_lock(&node->port_lock);
	if (!node_holds(node))
		node_port_close(node);
	mutex_unlock(&node->port_lock);
	node_unreserve(node);
	return 0;
}

static ssize_t vportx_read(struct file *file, char __user *buf, size_t len,
			   loff_t *ppos)
{
	struct vportx_node *node = file->private_data;
	ssize_t ret;

	if (!len)
		return 0;
	if (mutex_lock_interruptible(&node->rx_lock))
		return -ERESTARTSYS;
	ret = node->ops->read(node, buf, len, file->f_flags & O_NONBLOCK);
	mutex_unlock(&node->rx_lock);
	if (ret > 0)
		atomic64_add(ret, &node->rx_bytes);
	return ret;
}

static ssize_t vportx_splice_read(struct file *file, loff_t *ppos,
				  struct pipe_inode_info *pipe, size_t len,
				  unsigned int flags)
{
	struct vportx_node *node = file->private_data;
	ssize_t ret;

	/* The stacked backend cannot read its port from kernel context. */
	if (!node->ops->splice_read)
		return -EINVAL;
	if (!len)
		return 0;
	if (mutex_lock_interruptible(&node->rx_lock))
		return -ERESTARTSYS;
	ret = node->ops->splice_read(node, pipe, len, flags,
				     file->f_flags & O_NONBLOCK);
	mutex_unlock(&node->rx_lock);
	if (ret > 0)
		atomic64_add(ret, &node->rx_bytes);
	return ret;
}

/* IOCB_NOWAIT (io_uring, RWF_NOWAIT): as O_NONBLOCK, and not even a lock. */
static ssize_t vportx_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct vportx_node *node = file->private_data;
	bool nowait = iocb->ki_flags & IOCB_NOWAIT;
	ssize_t ret;

	if (!iov_iter_count(from))
		return 0;
	if (nowait) {
		if (!mutex_trylock(&node->tx_lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&node->tx_lock)) {
		return -ERESTARTSYS;
	}
	ret = vportx_tx_write(node, from,
			      nowait || (file->f_flags & O_NONBLOCK));
	mutex_unlock(&node->tx_lock);
	return ret;
}

static ssize_t vportx_splice_write(struct pipe_inode_info *pipe,
				   struct file *file, loff_t *ppos,
				   size_t len, unsigned int flags)
{
	struct vportx_node *node = file->private_data;
	ssize_t ret;

	/* SPLICE_F_NONBLOCK is about the pipe; the node's own flag rules. */
	if (mutex_lock_interruptible(&node->tx_lock))
		return -ERESTARTSYS;
	ret = vportx_tx_splice(node, pipe, len, flags,
			       file->f_flags & O_NONBLOCK);
	mutex_unlock(&node->tx_lock);
	return ret;
}

/* Like tcdrain(): wait until the port has everything written so far. */
static int vportx_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	struct vportx_node *node = file->private_data;
	int ret;

	if (mutex_lock_interruptible(&node->tx_lock))
		return -ERESTARTSYS;
	ret = vportx_tx_drain(node, MAX_SCHEDULE_TIMEOUT);
	mutex_unlock(&node->tx_lock);
	return ret;
}

/* The backend says what the port has; writability is the queue's. */
static __poll_t vportx_poll(struct file *file, poll_table *wait)
{
	struct vportx_node *node = file->private_data;
	__poll_t mask;

	poll_wait(file, &node->wq, wait);
	mask = node->ops->poll(node);
	if (!READ_ONCE(node->unplugged) && vportx_txq_writable(&node->txq))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int vportx_fasync(int fd, struct file *file, int on)
{
	struct vportx_node *node = file->private_data;

	return fasync_helper(fd, file, on, &node->fasync);
}

/*
 * splice() from a node over the stacked backend gets EINVAL: it cannot
 * read its port from kernel context (virtio_console has no read_iter).
 * Documentation/vportx.rst says so.
 */
static const struct file_operations vportx_node_fops = {
	.owner = THIS_MODULE,
	.open = vportx_open,
	.release = vportx_release,
	.read = vportx_read,
	.splice_read = vportx_splice_read,
	.write_iter = vportx_write_iter,
	.splice_write = vportx_splice_write,
	.fsync = vportx_fsync,
	.poll = vportx_poll,
	.fasync = vportx_fasync,
	/* No .llseek: with stream_open() lseek() fails with ESPIPE. */
};

static struct vportx_node *node_alloc(u32 port_dev, u32 port_nr,
				      dev_t port_devt,
				      const struct vportx_params *params,
				      const struct vportx_backend_ops *ops,
				      void *backend)
{
	struct vportx_node *node = kzalloc(sizeof(*node), GFP_KERNEL);

	if (!node)
		return NULL;
	node->port_dev = port_dev;
	node->port_nr = port_nr;
	node->port_devt = port_devt;
	node->params = *params;
	node->ops = ops;
	node->backend = backend;
	mutex_init(&node->port_lock);
	mutex_init(&node->rx_lock);
	mutex_init(&node->tx_lock);
	init_waitqueue_head(&node->wq);
	vportx_tx_init(node);
	atomic64_set(&node->rx_bytes, 0);
	atomic64_set(&node->tx_bytes, 0);
	node->host_connected = -1;
	INIT_WORK(&node->remove_work, node_remove_work);
	return node;
}

static void port_state_uevent(struct vportx_node *node);

/*
 * Take a minor and the node's name for @node, hidden: the node is found by
 * open only once complete (node_publish()). EBUSY if its port has a node,
 * EEXIST if a node of that name is still there: an unplugged port's at
 * the same place, open, one on its way out, or one being made.
 */
static int node_hide_new(struct vportx_node *node)
{
	int ret = -EBUSY;

	mutex_lock(&nodes_lock);
	if (port_attached(node->port_devt))
		goto out;
	ret = -EEXIST;
	if (name_taken(node->port_dev, node->port_nr))
		goto out;
	ret = idr_alloc(&nodes, NULL, 0, VPORTX_MINORS, GFP_KERNEL);
	if (ret < 0)
		goto out;
	node->minor = ret;
	list_add(&node->hidden, &hidden_nodes);
	ret = 0;
out:
	mutex_unlock(&nodes_lock);
	return ret;
}

/* Its device, then the backend's start. Under nodes_lock. */
static int node_add_device(struct vportx_node *node, struct device *parent)
{
	struct device *dev;

	lockdep_assert_held(&nodes_lock);
	dev = device_create_with_groups(vportx_class, parent,
					MKDEV(MAJOR(vportx_devt), node->minor),
					node, vportx_node_groups, "vportx%up%u",
					node->port_dev, node->port_nr);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	WRITE_ONCE(node->dev, dev);
	if (node->ops->start)
		node->ops->start(node);
	return 0;
}

/*
 * Publish a node for an attached port. On success the backend state is the
 * node's (its destroy op frees it); on failure it is still the caller's.
 */
/*
 * The last of vportx_node_create(), under nodes_lock: what the port said
 * before the device was there, as a change, then publish. A fuzz run
 * (ATTACH against RELEASE of the device) freed the node between the
 * unlock and a pr_debug() that came after it: a general protection fault
 * in dev_name().
 */
static void node_created(struct vportx_node *node, u32 *minor)
{
	lockdep_assert_held(&nodes_lock);
	*minor = node->minor;
	pr_debug("%s: created\n", dev_name(node->dev));
	if (READ_ONCE(node->host_connected) >= 0)
		port_state_uevent(node);
	node_publish(node);
}

int vportx_node_create(u32 port_dev, u32 port_nr, dev_t port_devt,
		       const struct vportx_params *params,
		       const struct vportx_backend_ops *ops, void *backend,
		       struct device *parent, u32 *minor)
{
	struct vportx_node *node;
	int ret;

	node = node_alloc(port_dev, port_nr, port_devt, params, ops, backend);
	if (!node)
		return -ENOMEM;
	ret = node_hide_new(node);
	if (ret)
		goto err_free;
	/*
	 * Not under nodes_lock, and before the device exists: nobody can
	 * find the node, and what the port reports meanwhile goes to sysfs
	 * without a uevent (vportx_node_port_state()).
	 */
	if (node_holds(node)) {
		mutex_lock(&node->port_lock);
		ret = node_port_open(node);
		mutex_unlock(&node->port_lock);
		if (ret)
			goto err_unhide;
	}
	/*
	 * The device node appears in /dev at once: open and INFO wait for
	 * nodes_lock until the node is published with it. Once published
	 * and unlocked, the node is anyone's to detach and free (a release
	 * of its device, an unplug): everything of it is done before.
	 */
	mutex_lock(&nodes_lock);
	ret = node_add_device(node, parent);
	if (!ret)
		node_created(node, minor);
	mutex_unlock(&nodes_lock);
	if (ret)
		goto err_close_port;
	return 0;

err_close_port:
	mutex_lock(&node->port_lock);
	node_port_close(node);
	mutex_unlock(&node->port_lock);
err_unhide:
	/* A port found gone by its open queued the node's removal. */
	cancel_work_sync(&node->remove_work);
	mutex_lock(&nodes_lock);
	list_del(&node->hidden);
	idr_remove(&nodes, node->minor);
	mutex_unlock(&nodes_lock);
err_free:
	kfree(node);
	return ret;
}

/*
 * Unpublished already: nobody can open it or find it any more. TX stops
 * pushing before the backend closes the port (its destroy op), and the
 * backend goes before the device, so nothing it runs can report on a
 * device that is gone.
 */
static void __node_free(struct vportx_node *node)
{
	pr_debug("%s: destroyed\n", dev_name(node->dev));
	/* After a hold change from sysfs that began before the unpublish. */
	mutex_lock(&node->port_lock);
	vportx_tx_stop(node);
	node->ops->destroy(node);
	mutex_unlock(&node->port_lock);
	device_destroy(vportx_class, MKDEV(MAJOR(vportx_devt), node->minor));
	mutex_lock(&nodes_lock);
	list_del(&node->hidden);
	idr_remove(&nodes, node->minor);
	mutex_unlock(&nodes_lock);
	kfree(node->name);
	kfree(node);
}

/* Not with nodes_lock held: the removal work may be waiting for it. */
static void node_free(struct vportx_node *node)
{
	cancel_work_sync(&node->remove_work);
	__node_free(node);
}

/* The port was unplugged: the node goes now, or at its last close. */
static void node_remove_work(struct work_struct *work)
{
	struct vportx_node *node = container_of(work, struct vportx_node,
						remove_work);
	bool gone;

	mutex_lock(&nodes_lock);
	gone = unpublish_unplugged(node);
	mutex_unlock(&nodes_lock);
	/* Every other path to node_free() needs the node published. */
	if (!gone)
		return;
	/*
	 * An open that found the node unplugged while this ran queued it
	 * again; unpublished, nothing can queue it any more. Not _sync: the
	 * running instance is this one.
	 */
	cancel_work(&node->remove_work);
	__node_free(node);
}

/*
 * A new RX budget for @node, from sysfs: EOPNOTSUPP if its backend has
 * none, ENODEV once the node is on its way out (its backend may be gone;
 * every path to __node_free() unpublishes the node first).
 */
int vportx_node_set_rx_budget(struct vportx_node *node, u32 bytes)
{
	int ret = -EOPNOTSUPP;

	if (!node->ops->set_rx_budget)
		return ret;
	mutex_lock(&nodes_lock);
	ret = -ENODEV;
	if (idr_find(&nodes, node->minor) == node) {
		WRITE_ONCE(node->params.rx_budget, bytes);
		node->ops->set_rx_budget(node, bytes);
		ret = 0;
	}
	mutex_unlock(&nodes_lock);
	return ret;
}

/*
 * New TX watermarks for @node, from sysfs: on either backend, at any time.
 * ERANGE unless tx_low stays below tx_limit. A queue at or above a
 * lowered limit takes nothing more until it drains to tx_low; writers
 * that a raised limit lets in wake up.
 */
static int node_set_tx(struct vportx_node *node, u32 limit, u32 low)
{
	lockdep_assert_held(&nodes_lock);
	if (low >= limit)
		return -ERANGE;
	WRITE_ONCE(node->params.tx_limit, limit);
	WRITE_ONCE(node->params.tx_low, low);
	if (vportx_txq_set_limits(&node->txq, limit, low))
		wake_up_interruptible_poll(&node->wq, EPOLLOUT | EPOLLWRNORM);
	return 0;
}

int vportx_node_set_tx_limit(struct vportx_node *node, u32 limit)
{
	int ret;

	mutex_lock(&nodes_lock);
	ret = node_set_tx(node, limit, node->params.tx_low);
	mutex_unlock(&nodes_lock);
	return ret;
}

int vportx_node_set_tx_low(struct vportx_node *node, u32 low)
{
	int ret;

	mutex_lock(&nodes_lock);
	ret = node_set_tx(node, node->params.tx_limit, low);
	mutex_unlock(&nodes_lock);
	return ret;
}

/*
 * Switch a reserved node's hold. Only with an empty TX queue (EBUSY).
 * Going to hold=open closes the port: EBUSY too while that would drop
 * what the host sent and nobody read.
 */
static int node_set_hold(struct vportx_node *node, u32 hold)
{
	u32 old = node->params.hold;
	int ret = 0;

	lockdep_assert_held(&node->port_lock);
	if (hold == old)
		return 0;
	if (READ_ONCE(node->txq.queued) || node_port_busy(node))
		return -EBUSY;
	WRITE_ONCE(node->params.hold, hold);
	if (node_holds(node))
		ret = node_port_open(node);
	else
		node_port_close(node);
	if (ret)
		WRITE_ONCE(node->params.hold, old);
	return ret;
}

/*
 * hold from sysfs, on either backend: only on a closed node (EBUSY),
 * reserved as an open would so that nobody opens or detaches it while
 * its port opens or closes. ENODEV once it is on its way out.
 */
int vportx_node_set_hold(struct vportx_node *node, u32 hold)
{
	struct vportx_node *found;
	int ret;

	/* The hold it has: nothing to do, open or not. */
	if (READ_ONCE(node->params.hold) == hold)
		return 0;
	/* The minor is this node's until its device is gone. */
	found = node_reserve(node->minor);
	if (IS_ERR(found))
		return PTR_ERR(found) == -ENXIO ? -ENODEV : PTR_ERR(found);
	mutex_lock(&node->port_lock);
	ret = node_set_hold(node, hold);
	mutex_unlock(&node->port_lock);
	/*
	 * Not node_unreserve(): freeing a node whose port went meanwhile
	 * would wait, in device_destroy(), for this very sysfs write. Its
	 * removal work frees it instead.
	 */
	mutex_lock(&nodes_lock);
	node->open_count--;
	if (node->unplugged)
		queue_work(vportx_wq, &node->remove_work);
	mutex_unlock(&nodes_lock);
	return ret;
}

/* Bytes received and not yet read, for sysfs: 0 without an RX budget. */
size_t vportx_node_rx_queued(struct vportx_node *node)
{
	size_t n = 0;

	if (!node->ops->rx_queued)
		return 0;
	mutex_lock(&nodes_lock);
	if (idr_find(&nodes, node->minor) == node)
		n = node->ops->rx_queued(node);
	mutex_unlock(&nodes_lock);
	return n;
}

/*
 * DETACH: EBUSY while the node is open, or while closing its port would
 * drop bytes the host sent and nobody read (hold=always, stacked: read
 * them first, or make it hold=open once they are read).
 */
static int node_detachable(struct vportx_node *node)
{
	lockdep_assert_held(&nodes_lock);
	if (!node)
		return -ENXIO;
	if (node->open_count)
		return -EBUSY;
	if (node->ops->owns_node)
		return -EOPNOTSUPP;
	return node_port_busy(node) ? -EBUSY : 0;
}

int vportx_node_destroy(u32 minor)
{
	struct vportx_node *node;
	int ret;

	mutex_lock(&nodes_lock);
	node = idr_find(&nodes, minor);
	ret = node_detachable(node);
	if (!ret)
		node_unpublish(node);
	mutex_unlock(&nodes_lock);
	if (ret)
		return ret;
	/* hold=always: what the node still has queued gets its chance. */
	node_tx_drain(node);
	node_free(node);
	return 0;
}

/* Module exit: nothing is open (every open file pins the module). */
void vportx_node_destroy_all(void)
{
	struct vportx_node *node;
	int id = 0;

	for (;;) {
		mutex_lock(&nodes_lock);
		node = idr_get_next(&nodes, &id);
		if (node)
			node_unpublish(node);
		mutex_unlock(&nodes_lock);
		if (!node)
			break;
		node_free(node);
	}
}

static void port_state_uevent(struct vportx_node *node)
{
	char host[32], unplugged[32];
	char *envp[3];

	snprintf(host, sizeof(host), "VPORTX_HOST_CONNECTED=%d",
		 node->host_connected);
	snprintf(unplugged, sizeof(unplugged), "VPORTX_UNPLUGGED=%d",
		 node->unplugged);
	envp[0] = host;
	envp[1] = unplugged;
	envp[2] = NULL;
	kobject_uevent_env(&node->dev->kobj, KOBJ_CHANGE, envp);
}

/*
 * The backend saw the port change: the host connected or went away, or
 * the port was unplugged. Called by one backend context at a time. Users
 * learn of it from sysfs and a change uevent (udev rules can act on it).
 */
void vportx_node_port_state(struct vportx_node *node, int host_connected,
			    bool unplugged)
{
	bool newly_unplugged = unplugged && !node->unplugged;

	if (host_connected == node->host_connected && !newly_unplugged)
		return;
	if ((node->host_connected == 1 && !host_connected) || newly_unplugged)
		kill_fasync(&node->fasync, SIGIO, POLL_HUP);
	WRITE_ONCE(node->host_connected, host_connected);
	if (newly_unplugged)
		WRITE_ONCE(node->unplugged, true);
	/* No uevent before the device exists: its add uevent says it all. */
	if ((host_connected >= 0 || newly_unplugged) && READ_ONCE(node->dev))
		port_state_uevent(node);
	wake_up_interruptible_all(&node->wq);
	if (newly_unplugged) {
		pr_debug("vportx%up%u: port unplugged\n", node->port_dev,
			 node->port_nr);
		queue_work(vportx_wq, &node->remove_work);
	}
}

/*
 * The backend learnt the port's name: sysfs shows it from now on, and a
 * change uevent has udev name the node. Only the first name counts.
 */
void vportx_node_set_name(struct vportx_node *node, const char *name)
{
	char *copy;

	if (READ_ONCE(node->name))
		return;
	copy = kstrdup(name, GFP_KERNEL);
	if (!copy)
		return;
	/* The string is whole before sysfs can see it: name_show(). */
	smp_store_release(&node->name, copy);
	kobject_uevent(&node->dev->kobj, KOBJ_CHANGE);
}

/*
 * The port with device number @port_devt was unplugged (stacked.c hears
 * it from virtio_console's class). An open port's backend sees that
 * itself; a node whose port is closed learns it here, and goes now, as
 * the stock node does, instead of at its next open.
 */
void vportx_node_port_removed(dev_t port_devt)
{
	struct vportx_node *node;
	int id;

	mutex_lock(&nodes_lock);
	idr_for_each_entry(&nodes, node, id)
		if (node->port_devt == port_devt && !READ_ONCE(node->port_open))
			vportx_node_port_state(node, 0, true);
	mutex_unlock(&nodes_lock);
}

/* Data arrived where a reader had found none: tell O_ASYNC owners. */
void vportx_node_readable(struct vportx_node *node)
{
	kill_fasync(&node->fasync, SIGIO, POLL_IN);
}

static void node_fill_info(const struct vportx_node *node,
			   struct vportx_info *info)
{
	memset(info, 0, sizeof(*info));
	info->minor = node->minor;
	info->backend = node->ops->id;
	info->hold = node->params.hold;
	info->port_dev = node->port_dev;
	info->port_nr = node->port_nr;
	info->tx_limit = node->params.tx_limit;
	info->tx_low = node->params.tx_low;
	info->rx_budget = node->params.rx_budget;
	info->open_count = node->open_count;
	info->rx_bytes = atomic64_read(&node->rx_bytes);
	info->tx_bytes = atomic64_read(&node->tx_bytes);
	info->tx_queued = READ_ONCE(node->txq.queued);
	info->tx_stalls = atomic64_read(&node->tx_stalls);
	info->tx_dropped = atomic64_read(&node->tx_dropped);
}

/* @info->minor in; with VPORTX_INFO_F_NEXT the first node at or above it. */
int vportx_node_info(struct vportx_info *info)
{
	struct vportx_node *node;
	int id = info->minor;

	mutex_lock(&nodes_lock);
	if (info->flags & VPORTX_INFO_F_NEXT)
		node = idr_get_next(&nodes, &id);
	else
		node = idr_find(&nodes, id);
	if (node)
		node_fill_info(node, info);
	mutex_unlock(&nodes_lock);
	return node ? 0 : -ENXIO;
}

int vportx_node_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&vportx_devt, 0, VPORTX_MINORS, "vportx");
	if (ret)
		goto err;
	cdev_init(&vportx_cdev, &vportx_node_fops);
	ret = cdev_add(&vportx_cdev, vportx_devt, VPORTX_MINORS);
	if (ret)
		goto err_unregister_region;
	vportx_class = vportx_class_create("vportx");
	ret = PTR_ERR_OR_ZERO(vportx_class);
	if (ret)
		goto err_del_cdev;
	ret = -ENOMEM;
	/*
	 * Freezable: a system suspend freezes it before the devices, and
	 * thaws it after they are back. A stacked node's work polls and
	 * writes its stock port, whose queues virtio_console takes away in
	 * its freeze and makes anew in its restore: run in between, it
	 * dereferenced a queue that was gone (S3 under a real guest).
	 */
	vportx_wq = alloc_workqueue("vportx", WQ_UNBOUND | WQ_FREEZABLE, 0);
	if (!vportx_wq)
		goto err_destroy_class;
	return 0;

err_destroy_class:
	class_destroy(vportx_class);
err_del_cdev:
	cdev_del(&vportx_cdev);
err_unregister_region:
	unregister_chrdev_region(vportx_devt, VPORTX_MINORS);
err:
	return ret;
}

void vportx_node_uninit(void)
{
	destroy_workqueue(vportx_wq);
	class_destroy(vportx_class);
	cdev_del(&vportx_cdev);
	unregister_chrdev_region(vportx_devt, VPORTX_MINORS);
}
