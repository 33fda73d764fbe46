/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qemu-guest-agent driven from the host as libvirt drives it, through the
 * peer's `talk` on the port with id "qga" (shared/seeds 004), as kselftest
 * assertions: include it after kselftest_harness.h. The guest side only
 * checks what the agent did (the file it wrote).
 */
#ifndef _VPORTX_RIG_AGENT_H
#define _VPORTX_RIG_AGENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define QGA_ANSWER_MAX 65536
#define QGA_WAIT_MS 10000

/* One request to qemu-ga from the host; its answer must contain @want. */
static inline void qga_ask(struct __test_metadata *_metadata,
			   const char *request, const char *want,
			   char *answer)
{
	ssize_t n = rig_talk("qga", request, answer, QGA_ANSWER_MAX,
			     QGA_WAIT_MS);

	ASSERT_LT(0, n) TH_LOG("%s: no answer (%zd)", request, n);
	EXPECT_NE(NULL, strstr(answer, want))
		TH_LOG("%s: %s", request, answer);
}

/* The handle in a guest-file-open answer, {"return": N}. */
static inline long qga_handle(const char *answer)
{
	const char *r = strstr(answer, "\"return\":");

	return r ? strtol(r + strlen("\"return\":"), NULL, 10) : -1;
}

/*
 * libvirt's handshake: guest-sync-delimited with a fresh id until the
 * answer carries it, @tries times at most. An agent that just started
 * may miss the first; the 0xff it sends first resets the host's parser.
 */
static inline void qga_sync(struct __test_metadata *_metadata, int id,
			    int tries, char *answer)
{
	char req[128], want[32];
	int i;

	snprintf(want, sizeof(want), "\"return\": %d", id);
	for (i = 0; i < tries; i++) {
		snprintf(req, sizeof(req), "{\"execute\":"
			 "\"guest-sync-delimited\",\"arguments\":{\"id\":%d}}",
			 id);
		if (rig_talk("qga", req, answer, QGA_ANSWER_MAX,
			     QGA_WAIT_MS) > 0 && strstr(answer, want))
			break;
		rig_ctl_ok("reset qga");
	}
	ASSERT_GT(tries, i) TH_LOG("no sync after %d tries: %s", tries, answer);
	EXPECT_EQ('\xff', answer[0]) TH_LOG("no 0xff sentinel: %s", answer);
}

static inline void qga_file_op(struct __test_metadata *_metadata,
			       const char *op, long h, const char *args,
			       const char *want, char *answer)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"execute\":\"guest-file-%s\","
		 "\"arguments\":{\"handle\":%ld%s}}", op, h, args);
	qga_ask(_metadata, req, want, answer);
}

/*
 * sync, sync-delimited, ping, info, and the file @path written, sought,
 * read back, flushed and closed, its content checked on both sides.
 */
static inline void qga_converse(struct __test_metadata *_metadata,
				const char *path)
{
	char *answer = malloc(QGA_ANSWER_MAX), req[512], content[64] = "";
	long h;

	ASSERT_NE(NULL, answer);
	unlink(path);
	qga_sync(_metadata, 77, 5, answer);
	qga_ask(_metadata, "{\"execute\":\"guest-sync\",\"arguments\":"
		"{\"id\":4242}}", "\"return\": 4242", answer);
	qga_ask(_metadata, "{\"execute\":\"guest-ping\"}", "\"return\": {}",
		answer);
	qga_ask(_metadata, "{\"execute\":\"guest-info\"}",
		"\"name\": \"guest-file-open\"", answer);
	EXPECT_NE(NULL, strstr(answer, "\"version\": \"")) TH_LOG("%s", answer);
	snprintf(req, sizeof(req), "{\"execute\":\"guest-file-open\","
		 "\"arguments\":{\"path\":\"%s\",\"mode\":\"w+\"}}", path);
	qga_ask(_metadata, req, "\"return\": ", answer);
	h = qga_handle(answer);
	ASSERT_LT(0, h) TH_LOG("%s", answer);
	/* "hello vportx" */
	qga_file_op(_metadata, "write", h, ",\"buf-b64\":\"aGVsbG8gdnBvcnR4\"",
		    "\"count\": 12", answer);
	qga_file_op(_metadata, "seek", h, ",\"offset\":0,\"whence\":\"set\"",
		    "\"position\": 0", answer);
	qga_file_op(_metadata, "read", h, ",\"count\":100",
		    "\"buf-b64\": \"aGVsbG8gdnBvcnR4\"", answer);
	EXPECT_NE(NULL, strstr(answer, "\"count\": 12")) TH_LOG("%s", answer);
	qga_file_op(_metadata, "flush", h, "", "\"return\": {}", answer);
	qga_file_op(_metadata, "close", h, "", "\"return\": {}", answer);
	EXPECT_EQ(0, rig_read_file(path, content, sizeof(content)));
	EXPECT_STREQ("hello vportx", content);
	free(answer);
}

#endif /* _VPORTX_RIG_AGENT_H */
