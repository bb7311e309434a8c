#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot ONE QEMU guest (tools/vm/run --impl ours), run
# tools/bench/guest.sh in it (ours vs the in-tree ipvlan/ipvtap in
# interleaved rounds, then macvlan, bridge, forwarding, NAT, loopback,
# then a nested QEMU guest on vhost-net behind each of ours, in-tree
# ipvtap and macvtap: the vhost part),
# keep the results in bench-results/<date>/ (git-ignored; "latest" points
# at the newest) and render them with tools/bench/report.py: a Markdown
# table on stdout, table.md, summary.json and PNG plots of the scaling
# curves.
#
#   tools/bench/run.sh [options]
#     --quick              tiny smoke run (1 round, 1 s runs, small scales)
#     --rounds N           ours/in-tree rounds (default 8)
#                          (parts hooks and host, the address curves and
#                          churn in each)
#     --alt-rounds N       rounds of the alternatives (default 2)
#     --host-rounds N      rounds of part host (default: --rounds)
#     --scale-rounds N     rounds of the whole ARP curves (default 2; the
#                          other rounds measure broadcast ARP to 1 slave)
#     --seconds S          length of each UDP/raw throughput run (default 2)
#     --tcp-seconds S      length of each TCP run (default 4)
#     --parts "..."        subset of: paths hooks host scale alts vhost
#                          (default all)
#     --vhost-runs N       vhost part: measurements each way per nested
#                          guest boot (default 8)
#     --vhost-seconds S    vhost part: length of each iperf3 run (default 5)
#     --vhost-order "..."  vhost part: order of the boots (default
#                          "ours in-tree macvlan")
#     --slaves "1 16 ..."  ARP fan-out points;  --addrs "1 16 ...": lookup
#     --churn N            slaves created/deleted (default 500)
#     --arp-rx napi|same|rps
#                          scaling part: the ARP floods are received by
#                          the master's own threaded NAPI on the other CPU
#                          (napi, default), on their sender's CPU in its
#                          context (same), or on the other CPU by RPS (rps;
#                          crashes in-tree's rounds under TCG, README
#                          "Benchmarks")
#     --mem MB, --timeout S, --kernel F, --modules-dir D, --ko-dir D
#                                 passed to tools/vm/run
#     --out DIR            result directory (default bench-results/<date>)
#     --report DIR         only render an existing result directory
#
# Absolute numbers from a TCG guest mean little; the ratios between
# implementations measured in the same boot are what matters.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
PROG=tools/bench/run.sh

die() { echo "$PROG: $*" >&2; exit 1; }

ENVS=()
VM_ARGS=()
MEM=2048
TIMEOUT=3600
OUT=
REPORT_ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) ENVS+=(BENCH_QUICK=1); shift ;;
	--rounds) ENVS+=("BENCH_ROUNDS=${2:?}"); shift 2 ;;
	--alt-rounds) ENVS+=("BENCH_ALT_ROUNDS=${2:?}"); shift 2 ;;
	--scale-rounds) ENVS+=("BENCH_SCALE_ROUNDS=${2:?}"); shift 2 ;;
	--host-rounds) ENVS+=("BENCH_HOST_ROUNDS=${2:?}"); shift 2 ;;
	--seconds) ENVS+=("BENCH_T=${2:?}"); shift 2 ;;
	--tcp-seconds) ENVS+=("BENCH_TCP_T=${2:?}"); shift 2 ;;
	--parts) ENVS+=("BENCH_PARTS=${2:?}"); shift 2 ;;
	--vhost-runs) ENVS+=("BENCH_VHOST_RUNS=${2:?}"); shift 2 ;;
	--vhost-seconds) ENVS+=("BENCH_VHOST_T=${2:?}"); shift 2 ;;
	--vhost-order) ENVS+=("BENCH_VHOST_ORDER=${2:?}"); shift 2 ;;
	--slaves) ENVS+=("BENCH_SLAVES=${2:?}"); shift 2 ;;
	--addrs) ENVS+=("BENCH_ADDRS=${2:?}"); shift 2 ;;
	--churn) ENVS+=("BENCH_CHURN=${2:?}"); shift 2 ;;
	--arp-rx) ENVS+=("BENCH_ARP_RX=${2:?}"); shift 2 ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--kernel|--modules-dir|--ko-dir) VM_ARGS+=("$1" "${2:?}"); shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--report) REPORT_ONLY=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

if [ -n "$REPORT_ONLY" ]; then
	exec python3 "$REPO/tools/bench/report.py" "$REPORT_ONLY"
fi

if [ ! -x tools/bench/pktflood ] || [ ! -x tools/tapguest/tapguest ]; then
	die "tools not built: run 'make' (or 'make bench')"
fi
command -v gnuplot >/dev/null || echo "$PROG: warning: no gnuplot: no plots (make deps)" >&2

stamp=$(date +%Y%m%d-%H%M%S)
if [ -z "$OUT" ]; then
	OUT=$REPO/bench-results/$stamp
	mkdir -p "$OUT"
	ln -sfn "$stamp" "$REPO/bench-results/latest"
else
	mkdir -p "$OUT"
fi

# Noise indicators: other QEMU guests share these 2 cores.
host_load() {
	printf '{"loadavg":"%s","qemu_processes":%d}' \
		"$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$(pgrep -c -x qemu-system-x86 2>/dev/null || true)"
}
{
	printf '{"date":"%s","commit":"%s","dirty":%s,"host_cpus":%d,"host_before":%s' \
		"$(date -Is)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$([ -z "$(git status --porcelain -uno 2>/dev/null)" ] && echo false || echo true)" \
		"$(nproc)" "$(host_load)"
} >"$OUT/host.json.part"

echo "$PROG: results in $OUT" >&2
start=$SECONDS
set +e
tools/vm/run --impl ours --mem "$MEM" --timeout "$TIMEOUT" "${VM_ARGS[@]}" \
	-- env "${ENVS[@]}" tools/bench/guest.sh 2>&1 |
	tee "$OUT/guest-output.txt" | grep --line-buffered -E '^(# |tools/vm/run)' >&2
rc=${PIPESTATUS[0]}
set -e
printf ',"host_after":%s,"wall_seconds":%d,"vm_exit":%d}\n' \
	"$(host_load)" $((SECONDS - start)) "$rc" >>"$OUT/host.json.part"
tr -d '\n' <"$OUT/host.json.part" >"$OUT/host.json"; echo >>"$OUT/host.json"
rm -f "$OUT/host.json.part"

sed -n 's/\r$//; s/^BENCH \({.*}\)$/\1/p' "$OUT/guest-output.txt" >"$OUT/results.jsonl"
sed -n 's/\r$//; s/^BENCH_META \({.*}\)$/\1/p' "$OUT/guest-output.txt" | tail -n1 >"$OUT/meta.json"
[ -s "$OUT/results.jsonl" ] || die "no results (VM exit $rc); see $OUT/guest-output.txt"
[ "$rc" -eq 0 ] || echo "$PROG: warning: the guest exited with $rc; results may be partial" >&2

python3 "$REPO/tools/bench/report.py" "$OUT"
echo "$PROG: $(wc -l <"$OUT/results.jsonl") measurements in $((SECONDS - start)) s; files in $OUT" >&2
exit "$rc"
