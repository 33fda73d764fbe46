// SPDX-License-Identifier: GPL-2.0
/*
 * Per-node sysfs attributes, /sys/class/vportx/vportxNpM/: views of what a
 * user debugging a port wants to see without an ioctl, and the tunables
 * root may change (Documentation/vportx.rst).
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/kernel.h>
#include <linux/sysfs.h>

static struct vportx_node *to_node(struct device *dev)
{
	return dev_get_drvdata(dev);
}

/* A u32 from @buf: EINVAL if it is none, ERANGE outside [@min, @max]. */
static int parse_u32(const char *buf, u32 min, u32 max, u32 *v)
{
	int ret = kstrtou32(buf, 0, v);

	if (ret)
		return ret;
	return *v < min || *v > max ? -ERANGE : 0;
}

/* A tunable the node core applies: @set with the u32 in @buf. */
static ssize_t store_node_u32(struct device *dev, const char *buf,
			      size_t len, u32 min, u32 max,
			      int (*set)(struct vportx_node *node, u32 v))
{
	u32 v;
	int ret = parse_u32(buf, min, max, &v);

	if (!ret)
		ret = set(to_node(dev), v);
	return ret ? ret : len;
}

static ssize_t source_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vportx_node *node = to_node(dev);

	return sysfs_emit(buf, "vport%up%u\n", node->port_dev, node->port_nr);
}
static DEVICE_ATTR_RO(source);

/* The port's name, once the backend knows it (direct); else empty. */
static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	/* Pairs with vportx_node_set_name(). */
	const char *name = smp_load_acquire(&to_node(dev)->name);

	return sysfs_emit(buf, "%s\n", name ?: "");
}
static DEVICE_ATTR_RO(name);

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_node(dev)->ops->name);
}
static DEVICE_ATTR_RO(backend);

static ssize_t hold_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	u32 hold = READ_ONCE(to_node(dev)->params.hold);

	return sysfs_emit(buf, "%s\n",
			  hold == VPORTX_HOLD_ALWAYS ? "always" : "open");
}

/* "open" or "always"; a direct node's, while it is closed (node.c). */
static ssize_t hold_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t len)
{
	int ret;

	if (sysfs_streq(buf, "open"))
		ret = vportx_node_set_hold(to_node(dev), VPORTX_HOLD_OPEN);
	else if (sysfs_streq(buf, "always"))
		ret = vportx_node_set_hold(to_node(dev), VPORTX_HOLD_ALWAYS);
	else
		ret = -EINVAL;
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(hold);

static ssize_t tx_limit_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_node(dev)->params.tx_limit));
}

/* Any node's, at any time: ERANGE unless within bounds and above tx_low. */
static ssize_t tx_limit_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t len)
{
	return store_node_u32(dev, buf, len, VPORTX_TX_LIMIT_MIN,
			      VPORTX_TX_LIMIT_MAX, vportx_node_set_tx_limit);
}
static DEVICE_ATTR_RW(tx_limit);

/* Bytes of receive buffers the port may hold; 0: the backend has none. */
static ssize_t rx_budget_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_node(dev)->params.rx_budget));
}

/* Root may change a direct node's at any time: EOPNOTSUPP on the others. */
static ssize_t rx_budget_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t len)
{
	return store_node_u32(dev, buf, len, VPORTX_RX_BUDGET_MIN,
			      VPORTX_RX_BUDGET_MAX, vportx_node_set_rx_budget);
}
static DEVICE_ATTR_RW(rx_budget);

/* Bytes the port received that are not read yet (direct); 0 for stacked. */
static ssize_t rx_queued_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%zu\n", vportx_node_rx_queued(to_node(dev)));
}
static DEVICE_ATTR_RO(rx_queued);

static ssize_t open_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_node(dev)->open_count));
}
static DEVICE_ATTR_RO(open);

static ssize_t rx_bytes_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&to_node(dev)->rx_bytes));
}
static DEVICE_ATTR_RO(rx_bytes);

static ssize_t tx_bytes_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&to_node(dev)->tx_bytes));
}
static DEVICE_ATTR_RO(tx_bytes);

static ssize_t tx_low_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_node(dev)->params.tx_low));
}

/* Any node's, at any time: ERANGE unless below tx_limit. */
static ssize_t tx_low_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	return store_node_u32(dev, buf, len, 0, U32_MAX,
			      vportx_node_set_tx_low);
}
static DEVICE_ATTR_RW(tx_low);

static ssize_t tx_queued_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%zu\n", READ_ONCE(to_node(dev)->txq.queued));
}
static DEVICE_ATTR_RO(tx_queued);

/* Pages the queue holds: none once an idle node is closed. */
static ssize_t tx_pages_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(to_node(dev)->txq.pages_held));
}
static DEVICE_ATTR_RO(tx_pages);

static ssize_t tx_pushes_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&to_node(dev)->tx_pushes));
}
static DEVICE_ATTR_RO(tx_pushes);

static ssize_t stalls_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&to_node(dev)->tx_stalls));
}
static DEVICE_ATTR_RO(stalls);

static ssize_t tx_dropped_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&to_node(dev)->tx_dropped));
}
static DEVICE_ATTR_RO(tx_dropped);

static ssize_t tx_drain_ms_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(to_node(dev)->tx_drain_ms));
}

/* A u32 tunable from @buf into *@field: EINVAL, or ERANGE above @max. */
static ssize_t store_u32(const char *buf, size_t len, u32 max, u32 *field)
{
	u32 v;
	int ret = parse_u32(buf, 0, max, &v);

	if (ret)
		return ret;
	WRITE_ONCE(*field, v);
	return len;
}

/* Root may change it at any time; the next close uses the new value. */
static ssize_t tx_drain_ms_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	return store_u32(buf, len, U32_MAX, &to_node(dev)->tx_drain_ms);
}
static DEVICE_ATTR_RW(tx_drain_ms);

static ssize_t tx_coalesce_us_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  READ_ONCE(to_node(dev)->tx_coalesce_us));
}

/* Root may change it at any time; the next stream of writes uses it. */
static ssize_t tx_coalesce_us_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t len)
{
	return store_u32(buf, len, VPORTX_TX_COALESCE_US_MAX,
			 &to_node(dev)->tx_coalesce_us);
}
static DEVICE_ATTR_RW(tx_coalesce_us);

/* 1 or 0; "unknown" while the port is not open (hold=open, node closed). */
static ssize_t host_connected_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	int host = READ_ONCE(to_node(dev)->host_connected);

	if (host < 0)
		return sysfs_emit(buf, "unknown\n");
	return sysfs_emit(buf, "%d\n", host);
}
static DEVICE_ATTR_RO(host_connected);

static ssize_t unplugged_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_node(dev)->unplugged));
}
static DEVICE_ATTR_RO(unplugged);

static struct attribute *vportx_node_attrs[] = {
	&dev_attr_source.attr,
	&dev_attr_name.attr,
	&dev_attr_backend.attr,
	&dev_attr_hold.attr,
	&dev_attr_tx_limit.attr,
	&dev_attr_tx_low.attr,
	&dev_attr_rx_budget.attr,
	&dev_attr_rx_queued.attr,
	&dev_attr_tx_queued.attr,
	&dev_attr_tx_pages.attr,
	&dev_attr_tx_pushes.attr,
	&dev_attr_stalls.attr,
	&dev_attr_tx_dropped.attr,
	&dev_attr_tx_drain_ms.attr,
	&dev_attr_tx_coalesce_us.attr,
	&dev_attr_open.attr,
	&dev_attr_rx_bytes.attr,
	&dev_attr_tx_bytes.attr,
	&dev_attr_host_connected.attr,
	&dev_attr_unplugged.attr,
	NULL,
};

static const struct attribute_group vportx_node_group = {
	.attrs = vportx_node_attrs,
};

const struct attribute_group *vportx_node_groups[] = {
	&vportx_node_group,
	NULL,
};
