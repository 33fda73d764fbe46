#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peer-selftest.sh - test the host peer on the host alone, without QEMU.
#
# A python3 stand-in plays QEMU's side: listening unix and tcp sockets, a udp
# socket and a QMP server that greets, answers commands with {"return":{}}
# and emits VSERPORT_CHANGE and DEVICE_DELETED; and vhost-device-vsock's
# side of a vsock port (CONNECT PORT, then OK or a closed socket). It speaks the control
# protocol of Documentation/rig.rst to the peer and checks every byte against
# its own re-implementation of the pattern. A small C program checks
# pattern.h itself at unaligned offsets.
#
# Prints one line per test, then "N passed, N failed"; exits non-zero if
# anything failed. Every process it starts is killed on exit.

set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/peer-selftest.XXXXXX")

cleanup() {
	local pid

	# The harness lists itself and every peer it started, one pid a line.
	if [ -f "$tmp/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null
		done <"$tmp/pids"
	fi
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

results=$tmp/results
: >"$results"

pass() { echo "PASS $*" | tee -a "$results"; }
fail() { echo "FAIL $*" | tee -a "$results"; }

build() {
	gcc -O2 -Wall -Wextra -Werror -I"$here" -o "$tmp/peer" "$here"/peer/*.c \
		2>"$tmp/build.log" && pass "peer builds without warnings" && return 0
	cat "$tmp/build.log"
	fail "peer builds without warnings"
	return 1
}

pattern_test() {
	cat >"$tmp/pattern-test.c" <<'EOF'
#include <stdio.h>
#include "pattern.h"

/* Byte i of the stream, straight from the definition. */
static unsigned char ref(uint64_t seed, uint64_t i)
{
	return splitmix64(seed + i / 8) >> (8 * (i % 8));
}

int main(void)
{
	unsigned char buf[64];
	uint64_t seed = 0xfffffffffffffff0ULL, off;
	size_t len, i;
	int bad = 0;

	for (off = 0; off < 24; off++)
		for (len = 0; len < 40; len++) {
			pattern_fill(buf + 1, len, seed, off);
			for (i = 0; i < len; i++)
				bad |= buf[1 + i] != ref(seed, off + i);
			bad |= pattern_check(buf + 1, len, seed, off) != -1;
			for (i = 0; i < len; i++) {
				buf[1 + i] ^= 0x40;
				bad |= pattern_check(buf + 1, len, seed, off) != (int64_t)i;
				buf[1 + i] ^= 0x40;
			}
		}
	bad |= splitmix64(0) != 0xe220a8397b1dcdafULL;
	bad |= fnv64_update(FNV64_INIT, "", 0) != FNV64_INIT;
	bad |= fnv64_update(FNV64_INIT, "a", 1) != 0xaf63dc4c8601ec8cULL;
	bad |= fnv64_update(fnv64_update(FNV64_INIT, "fo", 2), "obar", 4) !=
	       0x85944171f73967e8ULL;
	return bad;
}
EOF
	if gcc -std=c99 -O2 -Wall -Wextra -Werror -I"$here" \
		-o "$tmp/pattern-test" "$tmp/pattern-test.c" && "$tmp/pattern-test"; then
		pass "pattern.h fill/check at unaligned offsets, splitmix64, fnv64"
	else
		fail "pattern.h fill/check at unaligned offsets, splitmix64, fnv64"
	fi
}

cat >"$tmp/harness.py" <<'EOF'
import json, os, re, socket, struct, subprocess, sys, threading, time

TMP, PEER, RESULTS = sys.argv[1], sys.argv[2], sys.argv[3]
with open(os.path.join(TMP, 'pids'), 'a') as f:
    f.write('%d\n' % os.getpid())
M = (1 << 64) - 1
MIB = 1 << 20


def splitmix64(v):
    z = (v + 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)


def pattern(seed, n, off=0):
    w0, w1 = off // 8, (off + n + 7) // 8
    b = b''.join(struct.pack('<Q', splitmix64((seed + w) & M))
                 for w in range(w0, w1))
    return b[off - 8 * w0:off - 8 * w0 + n]


def fnv(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & M
    return h


def report(ok, name, detail=''):
    line = ('PASS ' if ok else 'FAIL ') + name + \
        ('' if ok else ': ' + str(detail))
    print(line, flush=True)
    with open(RESULTS, 'a') as f:
        f.write(line + '\n')


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unix_listener(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    return s


def accept(lsock, timeout=10):
    lsock.settimeout(timeout)
    c, _ = lsock.accept()
    c.settimeout(10)
    return c


def recv_exact(s, n, timeout=10):
    s.settimeout(timeout)
    out = bytearray()
    while len(out) < n:
        d = s.recv(min(n - len(out), 1 << 16))
        if not d:
            raise EOFError('EOF after %d bytes' % len(out))
        out += d
    return bytes(out)


def nothing_pending(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) is None
    except BlockingIOError:
        return True
    finally:
        s.settimeout(10)


class FakeQMP(threading.Thread):
    """QEMU's QMP monitor, as far as the peer uses it."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.lsock = unix_listener(path)
        self.conn = None
        self.lock = threading.Lock()
        self.commands = []
        self.listeners = {}     # hot-plugged chardevs: id -> listener
        self.conns = {}         # id -> the peer's accepted connection
        self.closed_before_remove = {}
        self.delete_delay = 0.3

    def run(self):
        self.conn, _ = self.lsock.accept()
        self.send({'QMP': {'version': {'qemu': {'micro': 0, 'minor': 2,
                                                'major': 7}, 'package': ''},
                           'capabilities': ['oob']}})
        buf = b''
        while True:
            try:
                d = self.conn.recv(4096)
            except OSError:
                return
            if not d:
                return
            buf += d
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                self.handle(json.loads(line))

    def send(self, obj):
        with self.lock:
            self.conn.sendall((json.dumps(obj) + '\r\n').encode())

    def emit(self, event, data):
        self.send({'event': event, 'data': data,
                   'timestamp': {'seconds': 1, 'microseconds': 2}})

    def ok(self):
        self.send({'return': {}})

    def error(self, desc):
        self.send({'error': {'class': 'GenericError', 'desc': desc}})

    def handle(self, cmd):
        self.commands.append(cmd)
        ex, args = cmd.get('execute'), cmd.get('arguments', {})
        getattr(self, 'do_' + ex.replace('-', '_'),
                lambda a: self.error('unknown command'))(args)

    def do_qmp_capabilities(self, args):
        self.ok()

    def do_chardev_add(self, args):
        path = args['backend']['data']['addr']['data']['path']
        self.listeners[args['id']] = unix_listener(path)
        self.ok()

    def do_device_add(self, args):
        if args['nr'] == 99:
            self.error('Port number 99 out of range')
        else:
            self.ok()

    def do_device_del(self, args):
        data = {'device': args['id'],
                'path': '/machine/peripheral/' + args['id']}
        # Real QEMU emits the event before the reply; test both orders.
        if not self.delete_delay:
            self.emit('DEVICE_DELETED', data)
        self.ok()
        if self.delete_delay:
            threading.Timer(self.delete_delay, self.emit,
                            ('DEVICE_DELETED', data)).start()

    def do_chardev_remove(self, args):
        c = self.conns.get(args['id'])
        if c:
            self.closed_before_remove[args['id']] = not nothing_pending(c) \
                and c.recv(1, socket.MSG_PEEK) == b''
        lsock = self.listeners.pop(args['id'], None)
        if lsock:
            os.unlink(lsock.getsockname())
            lsock.close()
        self.ok()


class Rig:
    """Sockets, configuration and one peer, as selftests/rig/run would."""

    def __init__(self, name, extra_args=(), udp=True, delay=0.3):
        self.dir = os.path.join(TMP, name)
        os.mkdir(self.dir)
        self.conf = os.path.join(self.dir, 'peer.conf')
        self.log = os.path.join(self.dir, 'peer.log')
        self.qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(('127.0.0.1', 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(('127.0.0.1', 0))
        self.udp_peer = free_udp_port()
        with open(self.conf, 'w') as f:
            f.write('# test ports\n\nvportx.ctl unix %s/ctl.sock\n'
                    'u1 unix %s/u1.sock   # a comment\nt1 tcp %d\n'
                    'v1 vsock %s/vsock.sock 5000 late\n'
                    % (self.dir, self.dir, self.tcp.getsockname()[1],
                       self.dir))
            if udp:
                f.write('d1 udp %d %d\n' % (self.udp_peer,
                                            self.udp.getsockname()[1]))
        self.proc = subprocess.Popen(
            [PEER, '-c', self.conf, '-q', self.qmp_path, '-l', self.log]
            + list(extra_args), stderr=subprocess.PIPE)
        with open(os.path.join(TMP, 'pids'), 'a') as f:
            f.write('%d\n' % self.proc.pid)
        # Listen only after the peer started: it must retry meanwhile.
        time.sleep(delay)
        self.qmp = FakeQMP(self.qmp_path)
        self.qmp.start()
        self.ctl_l = unix_listener(self.dir + '/ctl.sock')
        self.u1_l = unix_listener(self.dir + '/u1.sock')
        self.tcp.listen(4)
        self.ctl = accept(self.ctl_l)
        self.u1 = accept(self.u1_l)
        self.t1 = accept(self.tcp)
        self.buf = b''

    def send(self, line):
        self.ctl.sendall((line + '\n').encode())

    def reply(self, timeout=10):
        self.ctl.settimeout(timeout)
        while b'\n' not in self.buf:
            d = self.ctl.recv(4096)
            if not d:
                raise EOFError('control port EOF')
            self.buf += d
        line, self.buf = self.buf.split(b'\n', 1)
        return line.decode()

    def req(self, line, timeout=10):
        self.send(line)
        return self.reply(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(r, line, want):
    got = r.req(line)
    if got != want:
        raise AssertionError('%r -> %r, want %r' % (line, got, want))


@test
def ping(r):
    expect(r, 'ping', 'ok pong')


@test
def source_unix_1mib(r):
    expect(r, 'source u1 1048576 42', 'ok')
    data = recv_exact(r.u1, MIB)
    assert data == pattern(42, MIB), 'bytes differ from pattern 42'
    expect(r, 'wait u1 5000', 'ok sent 1048576')
    assert nothing_pending(r.u1), 'bytes beyond NBYTES'


@test
def source_tcp_odd_length_big_seed(r):
    n, seed = 100003, M - 3
    expect(r, 'source t1 %d %d' % (n, seed), 'ok')
    assert recv_exact(r.t1, n) == pattern(seed, n), 'bytes differ'
    expect(r, 'wait t1 5000', 'ok sent %d' % n)


@test
def source_zero_bytes(r):
    expect(r, 'source u1 0 1', 'ok')
    expect(r, 'wait u1 1000', 'ok sent 0')


@test
def sink_correct_1mib(r):
    data = pattern(7, MIB)
    expect(r, 'sink u1 1048576 7', 'ok')
    r.u1.sendall(data)
    expect(r, 'wait u1 5000', 'ok received 1048576 %016x -1' % fnv(data))


@test
def sink_one_bad_byte(r):
    data = bytearray(pattern(8, MIB))
    data[12345] ^= 0x01
    expect(r, 'sink u1 1048576 8', 'ok')
    r.u1.sendall(data)
    expect(r, 'wait u1 5000', 'ok received 1048576 %016x 12345' % fnv(data))


@test
def sink_leaves_extra_bytes_unread(r):
    extra = b'EXTRA12345'
    expect(r, 'sink u1 1000 5', 'ok')
    r.u1.sendall(pattern(5, 1000) + extra)
    expect(r, 'wait u1 5000', 'ok received 1000 %016x -1'
           % fnv(pattern(5, 1000)))
    expect(r, 'sink u1 10 0', 'ok')
    bad = next(i for i in range(10) if extra[i] != pattern(0, 10)[i])
    expect(r, 'wait u1 5000', 'ok received 10 %016x %d' % (fnv(extra), bad))


@test
def sink_tcp_unaligned_chunks(r):
    data = pattern(3, 70001)
    expect(r, 'sink t1 70001 3', 'ok')
    for i in range(0, len(data), 977):
        r.t1.sendall(data[i:i + 977])
    expect(r, 'wait t1 5000', 'ok received 70001 %016x -1' % fnv(data))


@test
def fastsource_unix_odd_length(r):
    n = 3 * MIB + 5
    expect(r, 'fastsource u1 %d 43' % n, 'ok')
    assert recv_exact(r.u1, n) == pattern(43, n), 'bytes differ'
    expect(r, 'wait u1 5000', 'ok sent %d' % n)
    assert nothing_pending(r.u1), 'bytes beyond NBYTES'


@test
def fastsink_correct(r):
    data = pattern(9, 2 * MIB + 3)
    expect(r, 'fastsink u1 %d 9' % len(data), 'ok')
    r.u1.sendall(data)
    expect(r, 'wait u1 5000', 'ok received %d %016x -1' % (len(data), fnv(data)))


@test
def fastsink_one_bad_byte(r):
    data = bytearray(pattern(10, 2 * MIB))
    data[1500000] ^= 0x80
    expect(r, 'fastsink u1 %d 10' % len(data), 'ok')
    r.u1.sendall(data)
    # A stream that differs reports its first bad byte, and no checksum.
    expect(r, 'wait u1 5000', 'ok received %d %016x 1500000' % (len(data), 0))


@test
def hostcpu_reports_times(r):
    got = r.req('hostcpu')
    assert re.fullmatch(r'ok peer=\d+ main=\d+ other=\d+ vcpu=(-|[\d,]+)',
                        got), got


@test
def echo_and_stats(r):
    expect(r, 'reset u1', 'ok')
    expect(r, 'stats u1', 'ok connected=1 rx=0 tx=0 unread=0')
    expect(r, 'echo u1', 'ok')
    msg = b'hello, echo\n' * 10000
    t = threading.Thread(target=r.u1.sendall, args=(msg,))
    t.start()
    back = recv_exact(r.u1, len(msg))
    t.join()
    assert back == msg, 'echoed bytes differ'
    expect(r, 'stats u1', 'ok connected=1 rx=%d tx=%d' % (len(msg), len(msg)) + ' unread=0')
    expect(r, 'wait u1 100', 'err timeout')
    expect(r, 'source u1 10 1', 'err u1 is busy')
    expect(r, 'reset u1', 'ok')
    expect(r, 'stats u1', 'ok connected=1 rx=0 tx=0 unread=0')
    r.u1.sendall(b'unread')
    time.sleep(0.1)
    expect(r, 'stats u1', 'ok connected=1 rx=0 tx=0 unread=0')
    assert recv_exact(r.u1, 0) == b'' and nothing_pending(r.u1)
    expect(r, 'sink u1 6 0', 'ok')
    bad = next(i for i in range(6) if b'unread'[i] != pattern(0, 6)[i])
    expect(r, 'wait u1 2000', 'ok received 6 %016x %d' % (fnv(b'unread'), bad))
    expect(r, 'wait nope 10', 'err no such port nope')


@test
def wait_timeout_does_not_block_other_ports(r):
    n = 8 * MIB
    expect(r, 'reset u1', 'ok')
    expect(r, 'sink u1 100 1', 'ok')
    expect(r, 'source t1 %d 9' % n, 'ok')
    t0 = time.monotonic()
    r.send('wait u1 1500')
    data = recv_exact(r.t1, n)
    took = time.monotonic() - t0
    assert took < 1.4, 'source stalled behind a parked wait (%.2fs)' % took
    assert data == pattern(9, n), 't1 bytes differ'
    got = r.reply()
    took = time.monotonic() - t0
    assert got == 'err timeout', got
    assert 1.45 < took < 3, 'timeout after %.2fs' % took
    expect(r, 'wait t1 1000', 'ok sent %d' % n)
    expect(r, 'reset u1', 'ok')
    expect(r, 'wait u1 10', 'err no job on u1')


@test
def concurrent_jobs(r):
    a, b = pattern(21, 3 * MIB), pattern(22, 2 * MIB)
    expect(r, 'source u1 %d 21' % len(a), 'ok')
    expect(r, 'sink t1 %d 22' % len(b), 'ok')
    got = {}
    t = threading.Thread(target=lambda: got.update(u1=recv_exact(r.u1, len(a))))
    t.start()
    r.t1.sendall(b)
    t.join()
    assert got['u1'] == a, 'u1 bytes differ'
    expect(r, 'wait t1 5000', 'ok received %d %016x -1' % (len(b), fnv(b)))
    expect(r, 'wait u1 5000', 'ok sent %d' % len(a))


@test
def disconnect_connect(r):
    expect(r, 'reset u1', 'ok')
    expect(r, 'disconnect u1', 'ok')
    assert recv_exact(r.u1, 0) == b'' and r.u1.recv(1) == b'', 'no EOF'
    expect(r, 'stats u1', 'ok connected=0 rx=0 tx=0 unread=-1')
    expect(r, 'source u1 10 1', 'err u1 is not connected')
    # QEMU not listening for a while: connect must keep retrying.
    r.u1_l.close()
    os.unlink(r.dir + '/u1.sock')
    r.send('connect u1')
    time.sleep(0.5)
    r.u1_l = unix_listener(r.dir + '/u1.sock')
    got = r.reply()
    assert got == 'ok', got
    r.u1 = accept(r.u1_l)
    expect(r, 'stats u1', 'ok connected=1 rx=0 tx=0 unread=0')
    expect(r, 'source u1 64 4', 'ok')
    assert recv_exact(r.u1, 64) == pattern(4, 64)
    expect(r, 'wait u1 1000', 'ok sent 64')
    expect(r, 'connect u1', 'ok')


@test
def connect_gives_up(r):
    r.u1_l.close()
    os.unlink(r.dir + '/u1.sock')
    expect(r, 'disconnect u1', 'ok')
    t0 = time.monotonic()
    got = r.req('connect u1', timeout=10)
    took = time.monotonic() - t0
    assert got.startswith('err '), got
    assert 4.5 < took < 7, 'gave up after %.2fs' % took
    expect(r, 'ping', 'ok pong')
    r.u1_l = unix_listener(r.dir + '/u1.sock')
    expect(r, 'connect u1', 'ok')
    r.u1 = accept(r.u1_l)


def vsock_accept(lsock):
    """vhost-device-vsock's side: a connection and its CONNECT line."""
    c = accept(lsock)
    line = recv_exact(c, len(b'CONNECT 5000\n'))
    assert line == b'CONNECT 5000\n', line
    return c


@test
def vsock_connect_retries_until_ok(r):
    expect(r, 'stats v1', 'ok connected=0 rx=0 tx=0 unread=-1')
    lsock = unix_listener(r.dir + '/vsock.sock')
    r.send('connect v1')
    # Nothing listens on the guest's port yet: the daemon hangs up.
    vsock_accept(lsock).close()
    # An answer that is not OK: the peer tries again.
    c = vsock_accept(lsock)
    c.sendall(b'ERR what\n')
    c.close()
    # The guest's first bytes may follow OK in the same read.
    c = vsock_accept(lsock)
    data = pattern(6, 1000)
    c.sendall(b'OK 1024\n' + data[:100])
    got = r.reply()
    assert got == 'ok', got
    expect(r, 'sink v1 1000 6', 'ok')
    c.sendall(data[100:])
    expect(r, 'wait v1 5000', 'ok received 1000 %016x -1' % fnv(data))
    expect(r, 'source v1 70000 7', 'ok')
    assert recv_exact(c, 70000) == pattern(7, 70000), 'bytes differ'
    expect(r, 'wait v1 5000', 'ok sent 70000')
    expect(r, 'disconnect v1', 'ok')
    assert c.recv(1) == b'', 'no EOF'
    c.close()
    r.vsock_l = lsock


@test
def vsock_no_answer_gives_up(r):
    t0 = time.monotonic()
    r.send('connect v1')
    c = vsock_accept(r.vsock_l)
    got = r.reply()
    took = time.monotonic() - t0
    assert got == 'err connect v1: Connection timed out', got
    assert 4.5 < took < 7, 'gave up after %.2fs' % took
    assert c.recv(1) == b'', 'socket left open'
    # The handshake's lines are not data: the counters are the last jobs'.
    expect(r, 'stats v1', 'ok connected=0 rx=1000 tx=70000 unread=-1')


@test
def udp_both_ways(r):
    qemu = r.udp
    expect(r, 'source d1 5000 3', 'ok')
    qemu.settimeout(5)
    data = b''
    while len(data) < 5000:
        d = qemu.recv(65536)
        assert len(d) <= 1024, 'datagram of %d bytes' % len(d)
        data += d
    assert data == pattern(3, 5000), 'udp bytes differ'
    expect(r, 'wait d1 2000', 'ok sent 5000')
    expect(r, 'sink d1 3000 4', 'ok')
    sent = pattern(4, 3000)
    for i in range(0, 3000, 1000):
        qemu.sendto(sent[i:i + 1000], ('127.0.0.1', r.udp_peer))
    expect(r, 'wait d1 2000', 'ok received 3000 %016x -1' % fnv(sent))
    expect(r, 'disconnect d1', 'ok')
    expect(r, 'stats d1', 'ok connected=0 rx=3000 tx=5000 unread=0')
    expect(r, 'source d1 1 1', 'err d1 is not connected')
    expect(r, 'connect d1', 'ok')
    expect(r, 'stats d1', 'ok connected=1 rx=3000 tx=5000 unread=0')


@test
def vserport_events(r):
    expect(r, 'vserport u1', 'ok none')
    for state, want in ((True, 'ok open=1'), (False, 'ok open=0')):
        r.qmp.emit('VSERPORT_CHANGE', {'id': 'u1', 'open': state})
        deadline = time.monotonic() + 3
        while r.req('vserport u1') != want:
            assert time.monotonic() < deadline, 'no ' + want
            time.sleep(0.02)
    expect(r, 'vserport t1', 'ok none')


def last_command(r, name):
    return [c for c in r.qmp.commands if c['execute'] == name][-1]


@test
def hotplug_unplug(r):
    expect(r, 'hotplug h1 org.test.h1 1 3', 'ok')
    want = {'id': 'h1', 'backend': {'type': 'socket', 'data': {
        'addr': {'type': 'unix', 'data': {'path': r.dir + '/h1.sock'}},
        'server': True, 'wait': False}}}
    assert last_command(r, 'chardev-add')['arguments'] == want
    want = {'driver': 'virtserialport', 'bus': 'vser1.0', 'nr': 3,
            'chardev': 'h1', 'id': 'h1', 'name': 'org.test.h1'}
    assert last_command(r, 'device_add')['arguments'] == want
    h1 = r.qmp.conns['h1'] = accept(r.qmp.listeners['h1'])
    expect(r, 'stats h1', 'ok connected=1 rx=0 tx=0 unread=0')
    expect(r, 'source h1 1000 11', 'ok')
    assert recv_exact(h1, 1000) == pattern(11, 1000)
    expect(r, 'wait h1 1000', 'ok sent 1000')
    expect(r, 'hotplug h1 x 0 5', 'err h1 exists')
    t0 = time.monotonic()
    expect(r, 'unplug h1', 'ok')
    assert time.monotonic() - t0 >= 0.25, 'did not wait for DEVICE_DELETED'
    names = [c['execute'] for c in r.qmp.commands[-2:]]
    assert names == ['device_del', 'chardev-remove'], names
    assert r.qmp.closed_before_remove.get('h1'), 'socket open at chardev-remove'
    expect(r, 'stats h1', 'err no such port h1')


@test
def hotplug_unnamed(r):
    expect(r, 'hotplug h2 - 0 4', 'ok')
    want = {'driver': 'virtserialport', 'bus': 'vser0.0', 'nr': 4,
            'chardev': 'h2', 'id': 'h2'}
    assert last_command(r, 'device_add')['arguments'] == want
    r.qmp.conns['h2'] = accept(r.qmp.listeners['h2'])
    r.qmp.delete_delay = 0
    expect(r, 'unplug h2', 'ok')


@test
def hotplug_qemu_error(r):
    expect(r, 'hotplug h3 - 0 99', 'err Port number 99 out of range')
    names = [c['execute'] for c in r.qmp.commands[-3:]]
    assert names == ['chardev-add', 'device_add', 'chardev-remove'], names
    expect(r, 'stats h3', 'err no such port h3')


@test
def bad_requests(r):
    expect(r, 'bogus', 'err unknown request bogus')
    expect(r, 'source', 'err usage: source ID NBYTES SEED')
    expect(r, 'source nope 1 1', 'err no such port nope')
    expect(r, 'source u1 x 1', 'err bad NBYTES x')
    expect(r, 'sink u1 1 -1', 'err bad SEED -1')
    expect(r, 'echo vportx.ctl', 'err vportx.ctl is the control port')
    expect(r, '', 'err empty request')
    got = r.req('stats vportx.ctl')
    assert got.startswith('ok connected=1 rx='), got


@test
def pipelined_requests_keep_order(r):
    r.send('sink u1 4 1\nwait u1 300\nping\nreset u1\nping')
    got = [r.reply() for _ in range(5)]
    assert got == ['ok', 'err timeout', 'ok pong', 'ok', 'ok pong'], got


@test
def log_has_requests_and_replies(r):
    text = open(r.log).read()
    assert '< ping\n' in text and '> ok pong\n' in text, 'not logged'
    line = next(l for l in text.splitlines() if l.endswith('< ping'))
    assert line[2] == ':' and line[8] == '.', 'no timestamp: ' + line


def run_main():
    r = Rig('main')
    try:
        try:
            r.qmp.join(0)
            for fn in TESTS:
                try:
                    fn(r)
                    report(True, fn.__name__)
                except Exception as e:
                    report(False, fn.__name__, '%s: %s' % (type(e).__name__, e))
            r.ctl.close()
            code = r.proc.wait(timeout=5)
            report(code == 0, 'control port EOF: exit 0', 'exit %s' % code)
        except Exception as e:
            report(False, 'main rig', '%s: %s' % (type(e).__name__, e))
    finally:
        r.kill()


def run_timeout():
    try:
        r = Rig('timeout', ('-t', '1'), udp=False, delay=0)
        code = r.proc.wait(timeout=5)
        err = r.proc.stderr.read().decode()
        report(code == 3 and err.startswith('peer: timeout: '),
               '-t 1: exit 3 with a message', 'exit %s, %r' % (code, err))
        r.kill()
    except Exception as e:
        report(False, '-t 1: exit 3', '%s: %s' % (type(e).__name__, e))


def run_setup_errors():
    noctl, badline = os.path.join(TMP, 'noctl.conf'), os.path.join(TMP, 'bad.conf')
    badvsock = os.path.join(TMP, 'badvsock.conf')
    with open(noctl, 'w') as f:
        f.write('u1 unix /nonexistent\n')
    with open(badline, 'w') as f:
        f.write('vportx.ctl tcp notaport\n')
    with open(badvsock, 'w') as f:
        f.write('vportx.ctl unix /x\nv1 vsock /x 4294967295 late\n')
    for name, args in (('usage', []),
                       ('no vportx.ctl', ['-c', noctl, '-q', 'x']),
                       ('bad line', ['-c', badline, '-q', 'x']),
                       ('bad vsock port', ['-c', badvsock, '-q', 'x']),
                       ('no such file', ['-c', TMP + '/none', '-q', 'x'])):
        p = subprocess.run([PEER] + args, stderr=subprocess.PIPE, timeout=5)
        err = p.stderr.decode()
        report(p.returncode == 2 and err.startswith('peer: '),
               'setup error (%s): exit 2' % name, '%d %r' % (p.returncode, err))


run_main()
run_timeout()
run_setup_errors()
EOF

# In the background: bash runs the traps only once a foreground job ends.
if build; then
	pattern_test
	python3 -u "$tmp/harness.py" "$tmp" "$tmp/peer" "$results" &
	wait $!
fi

passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
