#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vportxctl's command line, on the build host: no guest, no module. Run
# by `make -C userspace test-cli` (scripts/check: the "cli" step). Every
# command's --help, the exit codes (0 success, 1 failure, 2 usage error),
# --json where it makes sense and a usage error where it does not, the
# size parser the command line shares with the policy files, the JSON
# `policy` prints from a policy root of its own, the version and the man
# page. Each case prints "ok N - name" or "not ok N - name" with "# "
# lines saying why; the last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
CTL=${VPORTXCTL:-../build/vportxctl}
MAN=${VPORTXCTL_MAN:-../build/vportxctl.8}
[ -x "$CTL" ] || { echo "cli_test: no $CTL: make userspace first" >&2; exit 2; }

n=0 passed=0 failed=0 ok=1
tmp=$(mktemp -d /tmp/cli_test.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
# The policy files come from here, never from the host's /etc.
export VPORTX_POLICY_ROOT=$tmp/root
mkdir -p "$VPORTX_POLICY_ROOT/etc/vportx/policy.d"

begin() { ok=1; }
why() { ok=0; echo "# $*"; }
end() {
	n=$((n + 1))
	if [ "$ok" -eq 1 ]; then
		echo "ok $n - $1"; passed=$((passed + 1))
	else
		echo "not ok $n - $1"; failed=$((failed + 1))
	fi
}

# run ARGS...: vportxctl's exit code in $rc, its output in $out and $err.
run() {
	"$CTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# expect RC ARGS...: note it when vportxctl ARGS exits otherwise.
expect() {
	local want=$1

	shift
	run "$@"
	[ "$rc" -eq "$want" ] ||
		why "vportxctl $*: exit $rc, want $want; stderr: ${err:0:200}"
}

# json_check PYTHON-EXPR: the output parses, and EXPR of it (j) is true.
json_check() {
	python3 -c 'import json, sys
j = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/out" "$1" 2>"$tmp/py" ||
		why "JSON check $1 failed on: ${out:0:300} $(cat "$tmp/py")"
}

commands=(attach detach claim release list status ports policy udev-ready
	udev-port udev-node)
listings=(list status ports policy)
others=(attach detach claim release udev-ready udev-port udev-node)

begin
expect 0 --help
[[ "$out" == "usage: vportxctl"* ]] || why "--help: no usage on stdout"
[ -z "$err" ] || why "--help: stderr: $err"
for c in "${commands[@]}"; do
	grep -q "^ $c " <<<"$out" || why "--help does not list $c"
done
expect 0 -h
expect 2
[[ "$err" == "usage: vportxctl"* ]] || why "no arguments: no usage on stderr"
end "vportxctl --help and -h: usage on stdout, exit 0; none: exit 2"

begin
for c in "${commands[@]}"; do
	for h in --help -h; do
		expect 0 "$c" "$h"
		[[ "$out" == "usage: vportxctl $c"* ]] ||
			why "$c $h: stdout: ${out:0:80}"
		[ -z "$err" ] || why "$c $h: stderr: $err"
	done
	# --help wins over anything else on the line.
	expect 0 "$c" some-arg --help
done
end "every command's --help and -h: its own usage on stdout, exit 0"

begin
expect 2 frobnicate
grep -qx 'vportxctl: frobnicate: unknown command' <<<"$err" ||
	why "unknown command: $err"
grep -q "Try 'vportxctl --help'" <<<"$err" || why "no pointer to --help"
for c in "${commands[@]}"; do
	expect 2 "$c" --frobnicate x
	grep -q "^vportxctl: --frobnicate: unknown option" <<<"$err" ||
		why "$c --frobnicate: $err"
	grep -q "Try 'vportxctl $c --help'" <<<"$err" ||
		why "$c: no pointer to $c --help"
done
expect 2 --frobnicate list
expect 2 attach
expect 2 attach p1 p2
expect 2 detach
expect 2 detach --all p1
expect 2 claim
expect 2 claim not-a-device
expect 2 release virtio1 virtio2
expect 2 list extra
expect 2 ports extra
expect 2 status
expect 2 policy a b
expect 2 udev-port
expect 2 udev-node
expect 2 attach --hold sometimes p1
expect 2 attach --hold
expect 2 list --all
expect 2 detach --tx-limit 64K p1
end "usage errors exit 2: commands, options, operands"

begin
for c in "${others[@]}"; do
	expect 2 "$c" --json x
	grep -q "^vportxctl: --json: only list, status, ports and policy" \
		<<<"$err" || why "$c --json: $err"
	expect 2 --json "$c" x
	expect 2 -J "$c" x
done
# The listings take it, before or after the command.
for c in "${listings[@]}"; do
	arg=()
	[ "$c" = status ] && arg=(no.such.port)
	for j in "$c --json" "--json $c" "-J $c" "$c -J"; do
		# shellcheck disable=SC2086
		run $j "${arg[@]}"
		[ "$rc" -ne 2 ] || why "$j: a usage error: $err"
	done
done
end "--json on a command that prints no listing: a usage error, exit 2"

begin
expect 0 --version
version=$(sed -n 's/^#define VPORTX_VERSION "\(.*\)"/\1/p' ../kmod/version.h)
[ "$out" = "vportxctl $version" ] || why "--version: $out, want $version"
expect 0 -V
end "--version: kmod/version.h's VPORTX_VERSION"

# The policy's message for tx_limit=VALUE (or tx_low), without FILE:LINE.
policy_says() {
	printf 'x %s=%s\n' "$1" "$2" >"$VPORTX_POLICY_ROOT/etc/vportx/policy.conf"
	"$CTL" policy 2>&1 >/dev/null |
		sed "s|^$VPORTX_POLICY_ROOT/etc/vportx/policy.conf:1: ||"
	rm -f "$VPORTX_POLICY_ROOT/etc/vportx/policy.conf"
}

begin
for v in 64x 1KB -1 " 64K" 4095 1g 99999999999999999999G; do
	expect 2 attach --tx-limit "$v" no.such.port
	want=$(policy_says tx_limit "$v")
	[ -n "$want" ] || [ "$v" = " 64K" ] || why "the policy takes tx_limit=$v"
	[ "$v" = " 64K" ] || grep -qxF "vportxctl: --tx-limit: $want" \
		<<<"$err" || why "--tx-limit $v: $err; the policy: $want"
done
for v in 256M 300M; do
	expect 2 attach --tx-low "$v" no.such.port
	want=$(policy_says tx_low "$v")
	grep -qxF "vportxctl: --tx-low: $want" <<<"$err" ||
		why "--tx-low $v: $err; the policy: $want"
done
# Sizes both take: the command line goes on to look for the port.
for v in 64k 64K 4096 1m 256M; do
	expect 1 attach --tx-limit "$v" --tx-low 0 no.such.port
	grep -qx "vportxctl: no.such.port: no such port" <<<"$err" ||
		why "--tx-limit $v: $err"
	[ -z "$(policy_says tx_limit "$v")" ] ||
		why "the policy refuses tx_limit=$v"
done
end "--tx-limit and --tx-low: the policy's sizes, ranges and messages"

begin
expect 1 attach no.such.port
expect 1 status no.such.port
expect 1 status --json no.such.port
[ -z "$out" ] || why "status --json of nothing printed $out"
expect 1 detach no.such.port
expect 1 release virtio4294967295
expect 1 udev-node no.such.port
# Nothing to do is not a failure for udev.
expect 0 udev-port no.such.port
end "failures exit 1: no such port or node"

begin
if [ -d /sys/class/vportx ]; then
	why "this host has vportx nodes: not checking an empty list"
else
	expect 0 list
	[ -z "$out" ] || why "empty list printed: $out"
	expect 0 list --json
	json_check 'j == []'
	expect 0 --json list
	json_check 'j == []'
	expect 0 detach --all
fi
expect 0 ports
expect 0 ports --json
json_check 'isinstance(j, list) and all(set(e) == {"port", "name", "node"} for e in j)'
end "list and ports: empty is success in text and JSON; detach --all of none"

cat >"$VPORTX_POLICY_ROOT/etc/vportx/policy.conf" <<'POLICY'
# test policy
*            attach=yes hold=open tx_limit=64k
org.qemu.*   hold=always group=kvm mode=0660 compat=no
spice.*      attach=no backend=direct rx_budget=1M tx_low=16K
POLICY
printf 'bad\xff.*  attach=maybe\n' \
	>"$VPORTX_POLICY_ROOT/etc/vportx/policy.d/50-bad.conf"

begin
expect 1 policy
grep -q "^$VPORTX_POLICY_ROOT/etc/vportx/policy.d/50-bad.conf:1: bad value for attach" \
	<<<"$err" || why "policy: no FILE:LINE: $err"
grep -qx '\* attach=yes hold=open tx_limit=64K' <<<"$out" ||
	why "policy: $out"
expect 1 policy --json
json_check 'len(j) == 4 and j[0] == {"pattern": "*", "where": j[0]["where"], "broken": False, "attach": True, "hold": "open", "tx_limit": 65536}'
json_check 'j[0]["where"].endswith("/etc/vportx/policy.conf:2")'
json_check 'j[1]["mode"] == "0660" and j[1]["group"] == "kvm" and j[1]["compat"] is False and j[1]["hold"] == "always"'
json_check 'j[2]["backend"] == "direct" and j[2]["rx_budget"] == 1 << 20 and j[2]["tx_low"] == 16384'
json_check 'j[3]["broken"] is True and ":1: bad value for attach" in j[3]["why"] and j[3]["pattern"] == "bad\ufffd.*"'
expect 1 policy org.qemu.guest_agent.0 --json
json_check 'j == {"name": "org.qemu.guest_agent.0", "broken": False, "attach": True, "hold": "always", "compat": False, "tx_limit": 65536, "group": "kvm", "mode": "0660"}'
expect 1 -J policy ""
json_check 'j["name"] == "@unnamed" and j["attach"] is True'
rm "$VPORTX_POLICY_ROOT/etc/vportx/policy.d/50-bad.conf"
expect 0 policy spice.x
[ "$out" = "spice.x: attach=no backend=direct hold=open tx_limit=65536 tx_low=16384 rx_budget=1048576" ] ||
	why "policy spice.x: $out"
expect 0 policy --json
json_check 'len(j) == 3'
end "policy --json: valid JSON, the settings typed; errors exit 1"

begin
if [ ! -f "$MAN" ]; then
	why "no $MAN"
else
	grep -q "^\.TH VPORTXCTL 8 .*\"vportx $version\"" "$MAN" ||
		why "the man page's version is not $version"
	! grep -q '@[A-Z]*@' "$MAN" || why "the man page has a @...@ left"
	for c in "${commands[@]}"; do
		grep -q "^\.B vportxctl ${c//-/\\\\-}\$" "$MAN" ||
			why "the man page's synopsis lacks $c"
	done
	grep -qi '^\.SH EXIT STATUS' "$MAN" || why "no EXIT STATUS"
	if command -v groff >/dev/null; then
		groff -man -ww -z "$MAN" 2>"$tmp/groff"
		[ ! -s "$tmp/groff" ] || why "groff: $(head -3 "$tmp/groff")"
	fi
fi
end "the man page: the version, every command, the exit status"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
