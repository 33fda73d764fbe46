// SPDX-License-Identifier: GPL-2.0
/*
 * The rig's canary: proof that a wrong checksum turns a run red. It is run
 * only by `make check-rig` (selftests/rig/canary), which passes when the
 * rig reports exactly the one failure below and the one pass.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest.h"

/* Send 64 KiB of pattern @sent to a sink expecting pattern @expected. */
static long long sink_bad_offset(uint64_t expected, uint64_t sent)
{
	char reply[RIG_REPLY_MAX];
	unsigned long long n;
	long long bad = -2;
	uint64_t hash;
	int fd;

	if (rig_ctl_ok("reset test.spare") ||
	    rig_ctl_ok("sink test.spare 65536 %llu", (unsigned long long)expected))
		return -3;
	fd = rig_port_open_host("test.spare", O_RDWR, 10000);
	if (fd < 0 ||
	    rig_send(fd, sent, 65536, 4096, NULL) != 65536 ||
	    rig_ctl(reply, sizeof(reply), "wait test.spare 60000") ||
	    rig_parse_sunk(reply, &n, &hash, &bad))
		bad = -4;
	if (fd >= 0)
		close(fd);
	return bad;
}

TEST(right_checksum_passes)
{
	EXPECT_EQ(-1, sink_bad_offset(1, 1));
}

/* Deliberately broken: the host sees pattern 2 where it expects 1. */
TEST(wrong_checksum_fails)
{
	EXPECT_EQ(-1, sink_bad_offset(1, 2));
}

TEST_HARNESS_MAIN
