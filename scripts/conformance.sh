#!/usr/bin/env bash
# Runs the OCI runtime-tools validation programs against a runtime (bin/wrunc
# unless another is given, e.g. /usr/sbin/runc as a reference), prints a
# per-program table and fails on any program failure that
# conformance/expected-failures.txt does not list. Needs root.
#
# Usage: scripts/conformance.sh [RUNTIME]
# Environment: CONFORMANCE_DIR (work directory, default
# /var/tmp/wrunc-conformance: the programs are installed there once per
# version, and each runtime's TAP logs are kept there until its next run; the
# bundles go there too, so the user-namespace programs' mapped root must be
# able to reach it), CONFORMANCE_TIMEOUT (seconds per program, default 120).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the validation programs create real containers: run as root" >&2; exit 1; }
source scripts/deps.sh
umask 022

# master of 2025-12-04: the Go module proxy does not resolve @master, and the
# last tag (v0.9.0, 2019) predates most of the programs.
version=v0.9.1-0.20251205004911-5e639034dcdc
runtime=$(realpath "${1:-bin/wrunc}")
expected=$PWD/conformance/expected-failures.txt
work=${CONFORMANCE_DIR:-/var/tmp/wrunc-conformance}
limit=${CONFORMANCE_TIMEOUT:-120}
[ -x "$runtime" ] || { echo "no runtime at $runtime (make bin/wrunc?)" >&2; exit 1; }

mkdir -p "$work"
# The programs use fixed cgroup paths (/cgrouptest), so two runs would collide.
exec 9>"$work/lock"
flock -n 9 || { echo "another conformance run holds $work/lock" >&2; exit 1; }

tools=$work/tools-$version
if [ ! -e "$tools/.complete" ]; then
	rm -rf "$tools"
	# runtimetest is copied into busybox rootfses: it must be static.
	(cd "$work" && GOBIN=$tools CGO_ENABLED=0 go install \
		"github.com/opencontainers/runtime-tools/validation/...@$version" \
		"github.com/opencontainers/runtime-tools/cmd/runtimetest@$version")
	touch "$tools/.complete"
fi

declare -A reason=()
while read -r name why; do
	[ -n "$why" ] || { echo "$expected: $name has no reason" >&2; exit 1; }
	reason[$name]=$why
	[ -x "$tools/$name" ] || { echo "$expected: no program $name" >&2; exit 1; }
done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$expected")

# Each program runs in $run, where it expects ./runtimetest and
# ./rootfs-$GOARCH.tar.gz, and untars its bundles into its own TMPDIR.
run=$work/run${runtime//\//-}
rm -rf "$run"
mkdir -p "$run/logs" "$run/rootfs/bin" "$run/rootfs/etc" "$run/rootfs/dev" "$run/rootfs/proc" "$run/rootfs/sys"
cp "$tools/runtimetest" "$run/"
# The layout of runtime-tools' own rootfs: busybox with every applet in /bin.
cp /bin/busybox "$run/rootfs/bin/"
for applet in $(/bin/busybox --list); do
	[ -e "$run/rootfs/bin/$applet" ] || ln -s busybox "$run/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$run/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$run/rootfs/etc/group"
tar -czf "$run/rootfs-$(go env GOARCH).tar.gz" --owner=0 --group=0 -C "$run/rootfs" .
rm -rf "$run/rootfs"

# reap DIR removes the containers a program left behind (a failed check
# returns before its delete), recognised by their bundles under DIR, its TMPDIR.
reap() {
	local id
	for id in $("$runtime" list --format json | jq -r --arg dir "$1/" '.[]? | select(.bundle | startswith($dir)) | .id'); do
		"$runtime" delete --force "$id" || true
	done
	rm -rf "$1"
}

# The relative-cgroup programs use testdir/cgrouptest/container: runtimes
# remove the container's cgroup but not the two parents they created.
cleanup() {
	[ -z "${tmp:-}" ] || reap "$tmp"
	find /sys/fs/cgroup -depth -type d -path '*/testdir/cgrouptest' 2>/dev/null | while read -r dir; do
		rmdir "$dir" "${dir%/cgrouptest}" 2>/dev/null || true
	done
}
trap cleanup EXIT

# The programs run the runtime with its default root. Whatever wrunc keeps
# there for a container must be gone with it: a lock left behind is a leak.
locks=/run/wrunc/@wrunc/locks
locks_before=$(ls "$locks" 2>/dev/null | sort || true)

# tap_counts FILE prints the ok, not ok and skip counts of a program's output,
# then the number of its TAP documents that are broken. Programs print one
# document per group of checks (each with its own plan, often at the end), and
# the lifecycle and hook programs report a failure only as a YAML diagnostic
# with no test line at all: a document with a diagnostic but no test counts as
# broken, as does one whose plan does not match its tests. The *_fail programs
# print nothing when the runtime rightly refuses the config.
tap_counts() {
	awk '
		function close_doc() {
			if (indoc && (plan != tests || (tests == 0 && diag))) bad++
			indoc = 1; plan = -1; tests = 0; diag = 0
		}
		/^TAP version/ { close_doc() }
		/^ok / { tests++; if (tolower($0) ~ /# skip/) s++; else o++ }
		/^not ok / { tests++; n++ }
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
		/^  ---/ { diag = 1 }
		END { close_doc(); print o + 0, n + 0, s + 0, bad + 0 }' "$1"
}

# tap_failures FILE prints what explains a failure without the hundreds of
# passing checks: each not ok line with the diagnostics around it (they come
# before or after it, depending on the program) and documents without tests.
tap_failures() {
	awk '
		/^TAP version/ { if (!tests) printf "%s", pending; pending = ""; tests = 0; after = 0; next }
		/^ok / { tests++; pending = ""; after = 0; next }
		/^not ok / { tests++; printf "%s%s\n", pending, $0; pending = ""; after = 1; next }
		after { print; next }
		{ pending = pending $0 "\n" }
		END { if (!tests) printf "%s", pending }' "$1"
}

# attempt PROG runs one program, sets rc and its TAP counts (ok, notok, skip,
# bad) and succeeds when the program passed.
attempt() {
	tmp=$run/tmp-$1
	mkdir "$tmp"
	# A private mount namespace: linux_rootfs_propagation makes / shared, and
	# the runtimes' mounts would otherwise land in the host's namespace.
	rc=0
	(cd "$run" && TMPDIR=$tmp RUNTIME=$runtime timeout -k 10 "$limit" \
		unshare -m --propagation slave "$tools/$1") >"$run/logs/$1.tap" 2>"$run/logs/$1.stderr" || rc=$?
	reap "$tmp"
	tmp=
	read -r ok notok skip bad < <(tap_counts "$run/logs/$1.tap")
	((rc == 0 && notok == 0 && bad == 0))
}

programs=$(find "$tools" -maxdepth 1 -type f -executable ! -name runtimetest -printf '%f\n' | sort)
unexpected=()
declare -A total=()
printf '%s against %s\n%-36s %-7s %4s %6s %4s  %s\n' "runtime-tools@$version" "$runtime" program result ok 'not ok' skip note
for prog in $programs; do
	note=
	if ! attempt "$prog" && [ -z "${reason[$prog]:-}" ]; then
		# Some programs race with the container (killsig signals a shell
		# that may not have set its trap yet): an unlisted failure gets a
		# second run, and passing it only earns a note.
		mv "$run/logs/$prog.tap" "$run/logs/$prog.first.tap"
		mv "$run/logs/$prog.stderr" "$run/logs/$prog.first.stderr"
		! attempt "$prog" || note="flaky: passed only on a second run (see $prog.first.tap)"
	fi
	if ((rc != 0 || notok > 0 || bad > 0)); then
		result='not ok'
		if ((rc == 124)); then note="timed out after ${limit}s; "; elif ((rc != 0)); then note="exit $rc; "; fi
		((bad == 0)) || note+="$bad broken TAP; "
		if [ -n "${reason[$prog]:-}" ]; then
			note+='expected'
		else
			note+='UNEXPECTED (failed twice)'
			unexpected+=("$prog")
		fi
	else
		result=ok
		((ok > 0 || skip == 0)) || result=skip
		[ -z "${reason[$prog]:-}" ] || note='listed as expected failure, passed here'
	fi
	total[$result]=$((${total[$result]:-0} + 1))
	printf '%-36s %-7s %4d %6d %4d  %s\n' "$prog" "$result" "$ok" "$notok" "$skip" "$note"
done
echo "$(wc -w <<<"$programs") programs: ${total[ok]:-0} ok, ${total[skip]:-0} skip, ${total['not ok']:-0} not ok (${#unexpected[@]} unexpected); logs in $run/logs"

for prog in "${unexpected[@]}"; do
	printf '\n==== %s: failed checks\n' "$prog"
	tap_failures "$run/logs/$prog.tap"
	printf '==== %s: stderr\n' "$prog"
	cat "$run/logs/$prog.stderr"
done
leaked=$(comm -13 <(echo "$locks_before") <(ls "$locks" 2>/dev/null | sort || true) | grep . || true)
if [ -n "$leaked" ] && [[ $runtime == */wrunc ]]; then
	echo "locks left in $locks by the programs' containers:" $leaked >&2
	exit 1
fi
if ((${#unexpected[@]})); then
	echo "unexpected failures: ${unexpected[*]}" >&2
	exit 1
fi
