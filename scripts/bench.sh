#!/usr/bin/env bash
# Benchmarks wrunc against runc on this machine, all in one run with the
# commands interleaved in a random order, and prints a table of medians and
# ratios (and, for the run times, 25th percentiles: on a small VM run times
# are bimodal, as some runs wait on the kernel, and which mode the median
# lands in shifts between runs of the script):
#   native run of busybox true, wrunc vs runc; warm wasm hello vs native,
#   in Go and in wat (no guest runtime: what is left is wrunc's and wasmtime's),
#   and the Go hello as a wasi:cli/command component;
#   first start of a never-seen module, beside the compile alone of that
#   module (one process, wrunc's engine settings, nothing written) and its
#   warm start, and the first start of the component; memory of idle wasm
#   containers;
#   requests per second and p99 latency of one Go HTTP handler built
#   natively and as wasm, each in a container of wrunc's, loaded with wrk
#   from inside the container's network namespace;
#   sequential `ctr run`s of wasm (wrunc) vs native busybox (runc).
# Usage (as root): [CTR_RUNS=N] [RPS_RUNS=N] [RPS_SECONDS=S] [RPS_CONNECTIONS=N]
#   scripts/bench.sh [ROUNDS]   (also: make bench)
set -euo pipefail
# EPOCHREALTIME (see ms) and bc agree on the decimal point only in C.
export LC_ALL=C
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "containers need root: run as root" >&2; exit 1; }
rounds=${1:-200}
idle=${IDLE_CONTAINERS:-10}
ctr_runs=${CTR_RUNS:-100}
rps_runs=${RPS_RUNS:-2} rps_seconds=${RPS_SECONDS:-5} rps_connections=${RPS_CONNECTIONS:-32}
source scripts/deps.sh
source scripts/bench-containerd.sh
make -s bin/wrunc

work=$(mktemp -d /var/tmp/wrunc-bench.XXXXXX)
cleanup() {
	ctrd_stop
	for id in $("$wrunc" --root "$work/state" list -q 2>/dev/null); do "$wrunc" --root "$work/state" delete -f "$id"; done
	rm -rf "$work"
}
trap cleanup EXIT
# ctr forwards a ^C to its container and may then exit 0: stop anyway.
trap 'exit 130' INT TERM
# A copy outside the state root's tree: libcontainer seals the binary with an
# overlay on its directory, which must not contain the state directory.
mkdir -p "$work/bin"
cp bin/wrunc "$work/bin/wrunc"
wrunc="$work/bin/wrunc"
CGO_ENABLED=1 go build -tags "seccomp netgo osusergo urfave_cli_no_docs" -o "$work/bin/compilealone" ./internal/compilealone
runc=$(command -v runc)
W=("$wrunc" --root "$work/state" --cache-dir "$work/cache")
R=("$runc" --root "$work/runc-state")

bundle() { # DIR ARGS_JSON ANNOTATIONS_JSON
	"$wrunc" spec --bundle "$1"
	jq --argjson args "$2" --argjson ann "$3" \
		'.process.terminal = false | .process.args = $args | .annotations = $ann | .root.readonly = true' \
		"$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}
mkdir -p "$work/busybox/rootfs/bin" "$work/wasm/rootfs" "$work/wat/rootfs" "$work/component/rootfs" "$work/idle/rootfs" \
	"$work/http-native/rootfs" "$work/http-wasm/rootfs"
cp /bin/busybox "$work/busybox/rootfs/bin/"
bundle "$work/busybox" '["/bin/busybox", "true"]' '{}'
testdata/build.sh "$work/guests" >/dev/null
cp "$work/guests/hello.wasm" "$work/wasm/rootfs/"
bundle "$work/wasm" '["/hello.wasm"]' '{"module.wasm.image/variant": "compat"}'
cp "$work/guests/hello-wat.wasm" "$work/wat/rootfs/"
bundle "$work/wat" '["/hello-wat.wasm"]' '{"module.wasm.image/variant": "compat"}'
cp "$work/guests/hello.component.wasm" "$work/component/rootfs/"
bundle "$work/component" '["/hello.component.wasm"]' '{"module.wasm.image/variant": "compat"}'
cp "$work/guests/probe.wasm" "$work/idle/rootfs/"
bundle "$work/idle" '["/probe.wasm", "sleep", "3600"]' '{"module.wasm.image/variant": "compat"}'
# One HTTP handler, testdata/httpserver, as wasm (stealthrocket/net's
# sockets) and as a static Linux binary.
cp "$work/guests/httpserver.wasm" "$work/http-wasm/rootfs/"
bundle "$work/http-wasm" '["/httpserver.wasm", "[::]:8080"]' '{"module.wasm.image/variant": "compat"}'
(cd testdata && CGO_ENABLED=0 GOOS=linux GOWORK=off GOFLAGS= go build -trimpath -o "$work/http-native/rootfs/httpserver" ./httpserver)
bundle "$work/http-native" '["/httpserver", "[::]:8080"]' '{}'

# ms COMMAND...: wall time of one run in milliseconds (3 decimals). The
# clock is bash's own: a date(1) to read it would add its start-up, ~1 ms
# here, to every run timed.
ms() {
	local start=$EPOCHREALTIME end
	"$@" >/dev/null
	end=$EPOCHREALTIME
	echo "scale=3; ($end - $start) * 1000 / 1" | bc
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }
met() { [ "$(echo "$1 <= $2 * 1.05" | bc)" = 1 ] && echo met || echo "not met"; }
total() { awk '{s += $1} END {printf "%.0f", s}'; }
# quartile: the 25th percentile, the typical time of a run that no stray
# delay (an RCU grace period, a cgroup being freed) slowed down.
quartile() { sort -n | awk '{v[NR] = $1} END {i = int((NR + 3) / 4); print v[i]}'; }

"${W[@]}" precompile "$work/wasm" "$work/wat" "$work/component" >/dev/null # warm
for i in $(seq "$rounds"); do
	# A new order each round: a run can leave work behind (its cgroup or
	# memory being freed) that slows whichever command comes next.
	for c in $(shuf -e native runc wasm wat component); do
		case $c in
		native) ms "${W[@]}" run --bundle "$work/busybox" "n$i" >>"$work/t.wrunc-native" ;;
		runc) ms "${R[@]}" run --bundle "$work/busybox" "r$i" >>"$work/t.runc-native" ;;
		wasm) ms "${W[@]}" run --bundle "$work/wasm" "w$i" >>"$work/t.wrunc-wasm" ;;
		wat) ms "${W[@]}" run --bundle "$work/wat" "h$i" >>"$work/t.wrunc-wat" ;;
		component) ms "${W[@]}" run --bundle "$work/component" "c$i" >>"$work/t.wrunc-component" ;;
		esac
	done
done
# The first start and the compile alone, in a random order each round. The
# first start's debug log gives the compile's own time in the compiler
# process (its start, the compile, the link check and serializing, the
# artifact's hand-over): the rest is writing the entry and starting.
first_rounds=$(( rounds < 10 ? rounds : 10 ))
for i in $(seq "$first_rounds"); do
	for c in $(shuf -e first alone niced component); do
		case $c in
		first)
			"${W[@]}" cache prune --all >/dev/null
			ms "${W[@]}" --debug --log "$work/first.log" run --bundle "$work/wasm" "f$i" >>"$work/t.first"
			;;
		alone) "$work/bin/compilealone" "$work/wasm/rootfs/hello.wasm" >>"$work/t.alone" ;;
		# At the compiler's priority: what the compile costs a node busy
		# with other work, which it yields to.
		niced) nice -n 10 "$work/bin/compilealone" "$work/wasm/rootfs/hello.wasm" >>"$work/t.niced" ;;
		component)
			"${W[@]}" cache prune --all >/dev/null
			ms "${W[@]}" run --bundle "$work/component" "fc$i" >>"$work/t.first-component"
			;;
		esac
	done
done
# Go's durations as the debug line prints them ("987ms", "1.234s") in ms.
sed -n 's/.*compiled \/hello.wasm into the wasm cache in \([0-9.]*\)\([mµ]*s\).*/\1 \2/p' "$work/first.log" |
	awk '{print ($2 == "s") ? $1 * 1000 : ($2 == "ms") ? $1 : $1 / 1000}' >"$work/t.compiler"

native=$(median <"$work/t.wrunc-native") native_q=$(quartile <"$work/t.wrunc-native")
runc_native=$(median <"$work/t.runc-native") runc_native_q=$(quartile <"$work/t.runc-native")
wasm=$(median <"$work/t.wrunc-wasm") wasm_q=$(quartile <"$work/t.wrunc-wasm")
wat=$(median <"$work/t.wrunc-wat") wat_q=$(quartile <"$work/t.wrunc-wat")
component=$(median <"$work/t.wrunc-component") component_q=$(quartile <"$work/t.wrunc-component")
first=$(median <"$work/t.first")
alone=$(median <"$work/t.alone") niced=$(median <"$work/t.niced")
compiler=$(median <"$work/t.compiler")
first_component=$(median <"$work/t.first-component")
module_size=$(stat -c %s "$work/guests/hello.wasm")
component_size=$(stat -c %s "$work/guests/hello.component.wasm")

# Idle memory: N containers of one module; USS is what each adds alone,
# PSS shares the common pages (binary, artifact) among them.
"${W[@]}" precompile "$work/idle" >/dev/null
for i in $(seq "$idle"); do "${W[@]}" run -d --bundle "$work/idle" "idle$i" >/dev/null; done
sleep 1
uss=0 pss=0 rss=0
for i in $(seq "$idle"); do
	pid=$("${W[@]}" state "idle$i" | jq .pid)
	read -r r p u < <(awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {u+=$2} END {print r, p, u}' "/proc/$pid/smaps_rollup")
	uss=$((uss + u)) pss=$((pss + p)) rss=$((rss + r))
done
for i in $(seq "$idle"); do "${W[@]}" delete -f "idle$i"; done

# Requests per second: each server runs detached in a container with a
# network namespace of its own; wrk runs from the host inside that namespace
# (nsenter), so the load stays on the namespace's loopback, as a sidecar's
# would. After a warm-up of each, the servers' runs alternate.
serve() { # NAME BUNDLE: starts the server, prints its pid once it listens
	local pid i
	"${W[@]}" run -d --bundle "$2" "$1" >/dev/null
	pid=$("${W[@]}" state "$1" | jq .pid)
	nsenter --net="/proc/$pid/ns/net" ip link set lo up
	for i in $(seq 200); do
		grep -q ':1F90 00000000000000000000000000000000:0000 0A' "/proc/$pid/net/tcp6" && { echo "$pid"; return; }
		sleep 0.05
	done
	echo "bench: $1 does not listen on port 8080" >&2
	return 1
}
load() { # PID SECONDS: wrk's report of a load on the server of PID
	nsenter --net="/proc/$1/ns/net" wrk -t1 -c"$rps_connections" -d"$2s" --latency http://127.0.0.1:8080/
}
# p99 of a wrk report in ms (wrk prints 812.00us, 1.23ms, 1.01s).
p99() { awk '$1 == "99%" {v = $2; m = (v ~ /us$/) ? 0.001 : (v ~ /ms$/) ? 1 : (v ~ /s$/) ? 1000 : 60000; sub(/[a-z]+$/, "", v); printf "%.3f\n", v * m}'; }
"${W[@]}" precompile "$work/http-wasm" >/dev/null
http_native=$(serve http-native "$work/http-native") http_wasm=$(serve http-wasm "$work/http-wasm")
load "$http_native" 1 >/dev/null
load "$http_wasm" 1 >/dev/null
for i in $(seq "$rps_runs"); do
	for c in $(shuf -e native wasm); do
		pid=$([ "$c" = native ] && echo "$http_native" || echo "$http_wasm")
		load "$pid" "$rps_seconds" >"$work/wrk.$c.$i"
		# A run with errors measures something else: show them.
		grep -E 'Socket errors|Non-2xx' "$work/wrk.$c.$i" | sed "s/^/bench: $c: /" >&2 || true
		awk '/^Requests\/sec:/ {print $2}' "$work/wrk.$c.$i" >>"$work/t.rps-$c"
		p99 <"$work/wrk.$c.$i" >>"$work/t.p99-$c"
	done
done
for c in native wasm; do "${W[@]}" delete -f "http-$c"; done
rps_native=$(median <"$work/t.rps-native") rps_wasm=$(median <"$work/t.rps-wasm")
p99_native=$(median <"$work/t.p99-native") p99_wasm=$(median <"$work/t.p99-wasm")

# Sequential `ctr run`s, wasm with wrunc and native busybox with runc,
# interleaved in a random order, after a warm-up run of each.
ctr_skipped=$(ctrd_unavailable)
if [ -z "$ctr_skipped" ]; then
	ctrd_start "$work/containerd" "$work/cache" /bin/busybox "$work/guests/hello.wasm"
	ctrd_run "$wrunc" wasm cw0 >/dev/null
	ctrd_run "$runc" busybox cr0 /bin/busybox true
	for i in $(seq "$ctr_runs"); do
		for c in $(shuf -e wasm native); do
			case $c in
			wasm) ms ctrd_run "$wrunc" wasm "cw$i" >>"$work/t.ctr-wasm" ;;
			native) ms ctrd_run "$runc" busybox "cr$i" /bin/busybox true >>"$work/t.ctr-native" ;;
			esac
		done
	done
	ctr_wasm=$(median <"$work/t.ctr-wasm") ctr_native=$(median <"$work/t.ctr-native")
fi

printf '\n%-58s %10s %8s %10s %8s\n' "benchmark (median of $rounds, ms)" value ratio quartile ratio
printf '%-58s %10s %8s %10s %8s\n' "native run busybox true: runc $("$runc" --version | awk 'NR==1{print $3}')" "$runc_native" 1.00 "$runc_native_q" 1.00
printf '%-58s %10s %8s %10s %8s\n' "native run busybox true: wrunc (vs runc)" "$native" "$(ratio "$native" "$runc_native")" "$native_q" "$(ratio "$native_q" "$runc_native_q")"
printf '%-58s %10s %8s %10s %8s\n' "wasm run hello (Go, warm cache): wrunc (vs native wrunc)" "$wasm" "$(ratio "$wasm" "$native")" "$wasm_q" "$(ratio "$wasm_q" "$native_q")"
printf '%-58s %10s %8s %10s %8s\n' "  target: within 5% of native (1.05)" "" "$(met "$wasm" "$native")" "" "$(met "$wasm_q" "$native_q")"
printf '%-58s %10s %8s %10s %8s\n' "wasm run hello (wat, no guest runtime): wrunc (vs native)" "$wat" "$(ratio "$wat" "$native")" "$wat_q" "$(ratio "$wat_q" "$native_q")"
printf '%-58s %10s %8s %10s %8s\n' "wasm run hello (Go component, warm cache): wrunc (vs native)" "$component" "$(ratio "$component" "$native")" "$component_q" "$(ratio "$component_q" "$native_q")"
printf '%-58s %10s %8s\n' "wasm first start, never-seen $((module_size / 1024)) KiB module (median of $first_rounds)" "$first" ""
printf '%-58s %10s %8s\n' "  compile alone, same module and engine, one process" "$alone" 1.00
printf '%-58s %10s %8s\n' "  compile alone at nice +10, the compiler's (vs alone)" "$niced" "$(ratio "$niced" "$alone")"
printf '%-58s %10s %8s\n' "  compile in wrunc's compiler process (vs alone)" "$compiler" "$(ratio "$compiler" "$alone")"
printf '%-58s %10s %8s\n' "  first start vs compile alone + warm start (target 1.05)" "$(echo "$alone + $wasm" | bc)" "$(ratio "$first" "$(echo "$alone + $wasm" | bc)")"
printf '%-58s %10s %8s\n' "wasm first start, never-seen $((component_size / 1024)) KiB component (median of $first_rounds)" "$first_component" ""
printf '%-58s %10s\n' "idle wasm container: USS per container (KiB)" "$((uss / idle))"
printf '%-58s %10s\n' "idle wasm container: PSS per container, $idle running (KiB)" "$((pss / idle))"
printf '%-58s %10s\n' "idle wasm container: RSS per container (KiB)" "$((rss / idle))"
printf '%-58s %10s %8s %10s %8s\n' "HTTP requests/s, Go handler: native, in wrunc" "$rps_native" 1.00 "" ""
printf '%-58s %10s %8s %10s %8s\n' "HTTP requests/s, Go handler: wasm, in wrunc (vs native)" "$rps_wasm" "$(ratio "$rps_wasm" "$rps_native")" "" ""
printf '%-58s %10s %8s\n' "HTTP p99 latency (ms): native" "$p99_native" 1.00
printf '%-58s %10s %8s\n' "HTTP p99 latency (ms): wasm (vs native)" "$p99_wasm" "$(ratio "$p99_wasm" "$p99_native")"
printf '%s\n' "  (wrk, 1 thread, $rps_connections connections, median of $rps_runs runs of $rps_seconds s each, alternating)"
if [ -n "$ctr_skipped" ]; then
	printf '%s\n' "ctr run wasm (wrunc) vs busybox (runc): skipped, $ctr_skipped"
else
	printf '%-58s %10s %8s\n' "ctr run busybox true: runc ($ctr_runs runs in $(total <"$work/t.ctr-native") ms)" "$ctr_native" 1.00
	printf '%-58s %10s %8s\n' "ctr run wasm hello: wrunc (vs runc; $ctr_runs runs in $(total <"$work/t.ctr-wasm") ms)" "$ctr_wasm" "$(ratio "$ctr_wasm" "$ctr_native")"
fi
