/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vportxctl policy files: which virtio-serial ports to attach, and how.
 *
 * The format is described in Documentation/policy.rst. In short, each line
 * is "PATTERN key=value ...", PATTERN a glob on the port's name; the files
 * are read in a fixed order and later settings win, key by key. A line with
 * any error is kept as a *broken* entry: a port it matches gets no settings
 * at all, so that a typo never leaves a port half configured.
 *
 * Nothing here depends on the kernel's UAPI header: the values below are
 * the ones of VPORTX_BACKEND_* and VPORTX_HOLD_* in <linux/vportx.h>.
 */
#ifndef _VPORTX_POLICY_H
#define _VPORTX_POLICY_H

#include <stddef.h>
#include <stdio.h>

/* backend=: the values of VPORTX_BACKEND_* */
#define VPORTX_POLICY_BACKEND_STACKED 0
#define VPORTX_POLICY_BACKEND_DIRECT 1

/* hold=: the values of VPORTX_HOLD_* */
#define VPORTX_POLICY_HOLD_OPEN 0
#define VPORTX_POLICY_HOLD_ALWAYS 1

/* The ranges of the size keys, in bytes. */
#define VPORTX_POLICY_TX_LIMIT_MIN 4096LL
#define VPORTX_POLICY_TX_LIMIT_MAX 268435456LL
#define VPORTX_POLICY_TX_LOW_MAX (VPORTX_POLICY_TX_LIMIT_MAX - 1)
#define VPORTX_POLICY_RX_BUDGET_MIN 4096LL
#define VPORTX_POLICY_RX_BUDGET_MAX 268435456LL

/*
 * Where the shipped defaults are: $(PREFIX)/lib/vportx as installed (the
 * Makefile says), /usr/lib/vportx for a distribution's PREFIX=/usr.
 */
#ifndef VPORTX_POLICY_LIBDIR
#define VPORTX_POLICY_LIBDIR "/usr/lib/vportx"
#endif

/* Longest line accepted, without its newline. */
#define VPORTX_POLICY_LINE_MAX 4096

/**
 * struct vportx_settings - what the policy says about one port
 * @attach:	-1 unset, 0 no, 1 yes
 * @backend:	-1 unset, or VPORTX_POLICY_BACKEND_STACKED or _DIRECT
 * @hold:	-1 unset, or VPORTX_POLICY_HOLD_OPEN or _ALWAYS
 * @compat:	-1 unset, 0 no, 1 yes: /dev/virtio-ports/NAME leads to the
 *		data node rather than to the stock node
 * @tx_limit:	-1 unset, or bytes (VPORTX_POLICY_TX_LIMIT_MIN.._MAX)
 * @tx_low:	-1 unset, or bytes (0..VPORTX_POLICY_TX_LOW_MAX, 0: default)
 * @rx_budget:	-1 unset, or bytes (VPORTX_POLICY_RX_BUDGET_MIN.._MAX)
 * @owner:	"" unset, or a user name or decimal uid, syntax-checked only
 * @group:	"" unset, or a group name or decimal gid, syntax-checked only
 * @mode:	-1 unset, or permissions 0..0777
 * @broken:	1 if a broken entry matches the port or the settings do not
 *		make sense together: then every other field is unset and the
 *		caller must leave the port alone
 * @why:	when @broken, "FILE:LINE: why" of the first reason
 */
struct vportx_settings {
	int attach;
	int backend;
	int hold;
	int compat;
	long long tx_limit;
	long long tx_low;
	long long rx_budget;
	char owner[33];
	char group[33];
	int mode;
	int broken;
	char why[256];
};

/**
 * struct vportx_policy - the entries of the policy files, in file order
 *
 * Opaque: create with vportx_policy_new(), fill with vportx_policy_parse(),
 * vportx_policy_load_file() or vportx_policy_load(), query with
 * vportx_policy_lookup(), free with vportx_policy_free().
 */
struct vportx_policy;

/**
 * vportx_policy_new() - an empty policy
 *
 * Return: the policy, or NULL when out of memory.
 */
struct vportx_policy *vportx_policy_new(void);

/**
 * vportx_policy_free() - free a policy and its entries
 * @p: the policy; NULL is fine
 */
void vportx_policy_free(struct vportx_policy *p);

/**
 * vportx_policy_parse() - add the entries of one file's text
 * @p:		the policy; the entries go after those already there
 * @file:	the file's name, for messages
 * @text:	the text, not necessarily NUL-terminated; it may contain NULs
 * @len:	its length in bytes
 * @err:	where to print errors, one "FILE:LINE: why" line per broken
 *		line; NULL to be silent
 *
 * Return: the number of broken lines, or -ENOMEM (@p then holds part of
 * the text's entries: give up on it).
 */
int vportx_policy_parse(struct vportx_policy *p, const char *file,
			const char *text, size_t len, FILE *err);

/**
 * vportx_policy_load_file() - read and parse one file
 * @p:		the policy
 * @path:	the file; a missing one is not an error
 * @err:	as for vportx_policy_parse()
 *
 * A file that exists but cannot be read is reported as "PATH: why" and
 * counts as one error; it also adds a broken entry matching every port,
 * since what it would have said is unknown.
 *
 * Return: the number of errors, or -ENOMEM.
 */
int vportx_policy_load_file(struct vportx_policy *p, const char *path,
			    FILE *err);

/**
 * vportx_policy_load() - read the standard policy files
 * @p:		the policy
 * @root:	prefixed to every path: "" (or NULL) for the real root, a
 *		directory for tests
 * @err:	as for vportx_policy_parse()
 *
 * Reads ROOT/usr/lib/vportx/policy.conf, ROOT/etc/vportx/policy.conf, then
 * the files of ROOT/etc/vportx/policy.d whose names end in ".conf" (and do
 * not start with "."), in strverscmp() order. Missing files and directories
 * are fine.
 *
 * Return: the total number of errors, or -ENOMEM.
 */
int vportx_policy_load(struct vportx_policy *p, const char *root, FILE *err);

/**
 * vportx_policy_lookup() - the settings for one port
 * @p:		the policy
 * @name:	the port's name, "" (or NULL) for an unnamed port
 * @out:	the settings; check @out->broken first
 */
void vportx_policy_lookup(const struct vportx_policy *p, const char *name,
			  struct vportx_settings *out);

/**
 * vportx_policy_size() - a size as the policy's size keys take it
 * @key:	"tx_limit", "tx_low" or "rx_budget": the range to check
 * @text:	decimal digits, then maybe K, M or G (1024-based, either case)
 * @out:	the bytes, on success
 * @msg:	on failure, why, as a policy file's line would say it without
 *		its "FILE:LINE: " ("bad value for tx_limit: ...")
 * @len:	the size of @msg
 *
 * The one size parser: the command line's --tx-limit and --tx-low use it
 * too, so both take the same sizes and say the same about bad ones.
 *
 * Return: 0, -EINVAL for what is not a size, -ERANGE for a size outside
 * @key's range, -ENOENT for an unknown @key.
 */
int vportx_policy_size(const char *key, const char *text, long long *out,
		       char *msg, size_t len);

/**
 * vportx_policy_entry() - one entry of the policy, in file order
 * @p:		the policy
 * @i:		which, from 0
 * @where:	set to its "FILE:LINE" ("FILE" for a file that could not be
 *		read)
 * @set:	set to its settings; for a broken entry, only @broken and
 *		@why
 *
 * Return: the entry's pattern, or NULL when there are fewer entries.
 */
const char *vportx_policy_entry(const struct vportx_policy *p, size_t i,
				const char **where,
				const struct vportx_settings **set);

/**
 * vportx_policy_dump() - print the entries, one per line, in file order
 * @p:		the policy
 * @out:	where to print
 *
 * A good entry is printed as "PATTERN key=value ...", normalised (sizes
 * with the largest exact suffix, modes as 4 octal digits); a broken one as
 * "# broken: PATTERN (FILE:LINE: why)".
 */
void vportx_policy_dump(const struct vportx_policy *p, FILE *out);

#endif /* _VPORTX_POLICY_H */
