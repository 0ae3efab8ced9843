# shellcheck shell=bash
# Sourced by bench.sh: a private containerd for the `ctr run` rows. Its
# config, storage, state, sockets and the containers' cgroups are all its
# own, below one directory and one cgroup; ctrd_stop removes every trace and
# does nothing when ctrd_start never ran.

# Host dirs that buildah, skopeo and the runc v2 shim create whatever they
# are configured with; ctrd_stop removes those that did not exist before.
ctrd_host_dirs=(/var/lib/containers /run/containers /run/containerd)
ctrd_dir='' ctrd_pid='' ctrd_cgroup='' ctrd_created=()

# ctrd_unavailable: why the containerd rows can't run, or nothing.
ctrd_unavailable() {
	local tool
	for tool in containerd ctr containerd-shim-runc-v2 buildah skopeo; do
		command -v "$tool" >/dev/null || { echo "$tool is not installed"; return; }
	done
}

ctrd_ctr() { ctr -a "$ctrd_dir/containerd.sock" -n bench "$@"; }

# ctrd_start DIR CACHE_DIR BUSYBOX HELLO_WASM: starts containerd with its
# shims running wrunc on CACHE_DIR, and imports localhost/busybox (BUSYBOX
# as /bin/busybox) and localhost/wasm (HELLO_WASM as its CMD, with the
# compat annotation) built with buildah.
ctrd_start() {
	local d
	for d in "${ctrd_host_dirs[@]}"; do [ -e "$d" ] || ctrd_created+=("$d"); done
	ctrd_dir=$1 ctrd_cgroup=/$(basename "$1")
	mkdir -p "$ctrd_dir/context" "$ctrd_dir/tmp"
	cp "$3" "$4" "$ctrd_dir/context/"
	cat >"$ctrd_dir/config.toml" <<-EOF
		version = 2
		root = "$ctrd_dir/root"
		state = "$ctrd_dir/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
		[grpc]
		  address = "$ctrd_dir/containerd.sock"
		[ttrpc]
		  address = "$ctrd_dir/containerd.sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$ctrd_dir/opt"
	EOF
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$ctrd_dir" "$ctrd_dir" >"$ctrd_dir/storage.conf"
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$ctrd_dir/policy.json"
	printf 'FROM scratch\nCOPY busybox /bin/busybox\n' >"$ctrd_dir/busybox.Containerfile"
	printf 'FROM scratch\nCOPY %s /\nCMD ["/%s"]\n' "$(basename "$4")" "$(basename "$4")" >"$ctrd_dir/wasm.Containerfile"
	local img flags
	for img in busybox wasm; do
		flags=()
		[ "$img" = wasm ] && flags=(--annotation module.wasm.image/variant=compat)
		CONTAINERS_STORAGE_CONF="$ctrd_dir/storage.conf" TMPDIR="$ctrd_dir/tmp" \
			buildah build --quiet --signature-policy "$ctrd_dir/policy.json" "${flags[@]}" \
			-f "$ctrd_dir/$img.Containerfile" -t "localhost/$img:latest" "$ctrd_dir/context" >/dev/null
		CONTAINERS_STORAGE_CONF="$ctrd_dir/storage.conf" TMPDIR="$ctrd_dir/tmp" \
			skopeo --policy "$ctrd_dir/policy.json" copy --quiet \
			"containers-storage:localhost/$img:latest" "oci-archive:$ctrd_dir/$img.tar:localhost/$img:latest"
	done
	# The shims run wrunc with containerd's environment: that is the only
	# way to give it the bench's cache. Its own session keeps a ^C from
	# stopping it before ctrd_stop has removed the containers.
	WRUNC_CACHE_DIR=$2 setsid containerd --config "$ctrd_dir/config.toml" >"$ctrd_dir/containerd.log" 2>&1 &
	ctrd_pid=$!
	local deadline=$((SECONDS + 30))
	until [ -S "$ctrd_dir/containerd.sock" ] && ctrd_ctr version >/dev/null 2>&1; do
		if ! kill -0 "$ctrd_pid" 2>/dev/null || ((SECONDS > deadline)); then
			echo "containerd did not start:" >&2
			tail -n 20 "$ctrd_dir/containerd.log" >&2
			return 1
		fi
		sleep 0.1
	done
	for img in busybox wasm; do
		ctrd_ctr image import --base-name "localhost/$img" "$ctrd_dir/$img.tar" >/dev/null
	done
}

# ctrd_run RUNC IMAGE ID [ARGS...]: `ctr run --rm` of localhost/IMAGE with
# RUNC as the shim's runc, each runtime with its own state root.
ctrd_run() {
	local runc=$1 image=$2 id=$3 flags=()
	shift 3
	# ctr never copies an image's annotations into config.json.
	[ "$image" = wasm ] && flags=(--annotation module.wasm.image/variant=compat)
	ctrd_ctr run --rm --runc-binary "$runc" --runc-root "$ctrd_dir/runtime-$(basename "$runc")" \
		--fifo-dir "$ctrd_dir/fifo" --cgroup "$ctrd_cgroup/$id" "${flags[@]}" \
		"localhost/$image:latest" "$id" "$@"
}

# ctrd_stop: removes what an interrupted run left in containerd, stops it,
# then anything that outlived it: shims, container processes, mounts,
# cgroups and the host dirs it created.
ctrd_stop() {
	[ -n "$ctrd_dir" ] || return 0
	local id pid d
	if [ -n "$ctrd_pid" ]; then
		# A short dial timeout, for when containerd is what failed.
		for id in $(ctrd_ctr --connect-timeout 2s task list -q 2>/dev/null); do
			ctrd_ctr task delete -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(ctrd_ctr --connect-timeout 2s container list -q 2>/dev/null); do
			ctrd_ctr container delete "$id" >/dev/null 2>&1 || true
		done
		kill "$ctrd_pid" 2>/dev/null || true
		wait "$ctrd_pid" || true
	fi
	# A shim exits once its task is deleted, shortly after `ctr run` returns.
	for _ in $(seq 50); do
		pgrep -f -- "-address $ctrd_dir/" >/dev/null || break
		sleep 0.1
	done
	for pid in $(pgrep -f -- "-address $ctrd_dir/") $(cat /sys/fs/cgroup{,/*}"$ctrd_cgroup"/*/cgroup.procs 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	# A killed shim leaves its socket, outside the dir; its bundle says where.
	for d in "$ctrd_dir"/state/io.containerd.runtime.v2.task/bench/*/address; do
		[ -f "$d" ] && rm -f "$(sed 's|^unix://||' "$d")"
	done
	awk -v dir="$ctrd_dir/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r umount -l
	for d in /sys/fs/cgroup{,/*}"$ctrd_cgroup"; do
		# A controller linked under two names was removed by the first.
		[ -d "$d" ] || continue
		# A killed process holds its cgroup until it is reaped.
		for _ in $(seq 50); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null && break; sleep 0.1; done
	done
	for d in "${ctrd_created[@]}"; do
		# Only if empty: another containerd may have come up since.
		if [ "$d" = /run/containerd ]; then rmdir "$d/s" "$d" 2>/dev/null || true; else rm -rf "$d"; fi
	done
	ctrd_dir='' ctrd_pid=''
}
