/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pattern transfers through a port, checked end to end with the host peer,
 * as kselftest assertions. Include it after kselftest_harness.h (and
 * guest.h): it uses the harness's ASSERT and EXPECT macros.
 */
#ifndef _VPORTX_RIG_XFER_H
#define _VPORTX_RIG_XFER_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "guest.h"

/* How long the peer may take to finish a job before `wait` gives up. */
#define RIG_JOB_MS 240000

/* Collect the sink on @id and check it got @n bytes hashing to @sent_hash. */
static inline void rig_sink_check(struct __test_metadata *_metadata,
				  const char *id, size_t n, uint64_t sent_hash)
{
	char reply[RIG_REPLY_MAX];
	unsigned long long got;
	uint64_t hash;
	long long bad;

	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s %d", id,
			     RIG_JOB_MS))
		TH_LOG("wait %s: %s", id, reply);
	ASSERT_EQ(0, rig_parse_sunk(reply, &got, &hash, &bad))
		TH_LOG("reply: %s", reply);
	EXPECT_EQ(n, got);
	EXPECT_EQ(-1, bad);
	EXPECT_EQ(sent_hash, hash);
}

/* Move @n bytes guest→host through @fd and check what the peer got. */
static inline void rig_to_host(struct __test_metadata *_metadata, int fd,
			       const char *id, uint64_t seed, size_t n,
			       size_t chunk)
{
	uint64_t sent_hash;

	ASSERT_EQ(0, rig_ctl_ok("sink %s %zu %" PRIu64, id, n, seed));
	ASSERT_EQ((ssize_t)n, rig_send(fd, seed, n, chunk, &sent_hash));
	rig_sink_check(_metadata, id, n, sent_hash);
}

/* Have the peer send @n bytes host→guest and verify every one of them. */
static inline void rig_from_host(struct __test_metadata *_metadata, int fd,
				 const char *id, uint64_t seed, size_t n,
				 size_t chunk)
{
	char reply[RIG_REPLY_MAX], expect[64];
	struct rig_recv res;

	ASSERT_EQ(0, rig_ctl_ok("source %s %zu %" PRIu64, id, n, seed));
	ASSERT_EQ(0, rig_recv(fd, seed, n, chunk, &res));
	EXPECT_EQ(-1, res.bad);
	ASSERT_EQ(0, rig_ctl(reply, sizeof(reply), "wait %s %d", id,
			     RIG_JOB_MS))
		TH_LOG("wait %s: %s", id, reply);
	snprintf(expect, sizeof(expect), "sent %zu", n);
	EXPECT_STREQ(expect, reply);
}

#endif /* _VPORTX_RIG_XFER_H */
