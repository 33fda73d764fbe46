/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VPORTX_VERSION_H
#define _VPORTX_VERSION_H

#define VPORTX_VERSION "0.1.0"

#endif /* _VPORTX_VERSION_H */
