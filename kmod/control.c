// SPDX-License-Identifier: GPL-2.0
/*
 * The control device, /dev/vportx-control: attach, detach and describe
 * nodes, claim and release devices (include/uapi/linux/vportx.h documents
 * every command and errno).
 */

#include "vportx.h"

#include <linux/vportx.h>

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static bool reserved_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* hold, tx_limit and tx_low as VPORTX_IOC_ATTACH and _CLAIM take them. */
static int node_params(u32 hold, u32 tx_limit, u32 tx_low,
		       struct vportx_params *params)
{
	if (hold != VPORTX_HOLD_OPEN && hold != VPORTX_HOLD_ALWAYS)
		return -EINVAL;
	if (tx_limit && (tx_limit < VPORTX_TX_LIMIT_MIN ||
			 tx_limit > VPORTX_TX_LIMIT_MAX))
		return -EINVAL;
	params->hold = hold;
	params->tx_limit = tx_limit ?: VPORTX_TX_LIMIT_DEFAULT;
	if (tx_low >= params->tx_limit)
		return -EINVAL;
	params->tx_low = tx_low ?: params->tx_limit / 2;
	params->rx_budget = 0;
	return 0;
}

static int attach_params(const struct vportx_attach *a,
			 struct vportx_params *params)
{
	if (a->flags & ~VPORTX_ATTACH_F_ALL ||
	    !reserved_zero(a->__reserved, sizeof(a->__reserved)))
		return -EINVAL;
	return node_params(a->hold, a->tx_limit, a->tx_low, params);
}

static int claim_params(const struct vportx_claim *c,
			struct vportx_params *params)
{
	int ret = node_params(c->hold, c->tx_limit, c->tx_low, params);

	if (ret)
		return ret;
	if (c->rx_budget && (c->rx_budget < VPORTX_RX_BUDGET_MIN ||
			     c->rx_budget > VPORTX_RX_BUDGET_MAX))
		return -EINVAL;
	params->rx_budget = c->rx_budget ?: VPORTX_RX_BUDGET_DEFAULT;
	return 0;
}

static long ioc_attach(void __user *argp)
{
	struct vportx_params params;
	struct vportx_attach a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	ret = attach_params(&a, &params);
	if (ret)
		return ret;
	ret = vportx_stacked_attach(a.fd, &params, &a);
	if (ret)
		return ret;
	if (copy_to_user(argp, &a, sizeof(a))) {
		/* Nobody learnt the minor: undo, unless already detached. */
		vportx_node_destroy(a.minor);
		return -EFAULT;
	}
	return 0;
}

static long ioc_detach(void __user *argp)
{
	struct vportx_detach d;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~VPORTX_DETACH_F_ALL ||
	    !reserved_zero(d.__reserved, sizeof(d.__reserved)))
		return -EINVAL;
	return vportx_node_destroy(d.minor);
}

static long ioc_info(void __user *argp)
{
	struct vportx_info info;
	int ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.flags & ~VPORTX_INFO_F_ALL ||
	    !reserved_zero(info.__reserved, sizeof(info.__reserved)))
		return -EINVAL;
	ret = vportx_node_info(&info);
	if (ret)
		return ret;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ioc_claim(void __user *argp)
{
	struct vportx_params params;
	struct vportx_claim c;
	int ret;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~VPORTX_CLAIM_F_ALL ||
	    !reserved_zero(c.__reserved, sizeof(c.__reserved)))
		return -EINVAL;
	ret = claim_params(&c, &params);
	return ret ? ret : vportx_claim(c.index, &params);
}

static long ioc_release(void __user *argp)
{
	struct vportx_release r;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if (r.flags & ~VPORTX_RELEASE_F_ALL ||
	    !reserved_zero(r.__reserved, sizeof(r.__reserved)))
		return -EINVAL;
	return vportx_claim_release(r.index);
}

/* Every command, with its handler: what is not here gets ENOTTY. */
static const struct {
	unsigned int cmd;
	long (*fn)(void __user *argp);
} control_cmds[] = {
	{ VPORTX_IOC_ATTACH, ioc_attach },
	{ VPORTX_IOC_DETACH, ioc_detach },
	{ VPORTX_IOC_INFO, ioc_info },
	{ VPORTX_IOC_CLAIM, ioc_claim },
	{ VPORTX_IOC_RELEASE, ioc_release },
};

static long vportx_control_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(control_cmds); i++)
		if (control_cmds[i].cmd == cmd)
			break;
	if (i == ARRAY_SIZE(control_cmds))
		return -ENOTTY;
	/* The device is 0600, but an fd can be passed to the unprivileged. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return control_cmds[i].fn((void __user *)arg);
}

static const struct file_operations vportx_control_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vportx_control_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vportx_control = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VPORTX_CONTROL_NAME,
	.fops = &vportx_control_fops,
	.mode = 0600,
};

int vportx_control_init(void)
{
	return misc_register(&vportx_control);
}

void vportx_control_uninit(void)
{
	misc_deregister(&vportx_control);
}
