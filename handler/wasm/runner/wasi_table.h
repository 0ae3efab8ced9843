// Every host function the runner provides, with its wasm signature: the one
// list that both the runner's linker (wasi_link.c) and the host's link check
// at create (handler/wasm/linkable.go, through cgo) read.
//
// X(module, name, params, results, impl): params and results spell the wasm
// types, i for i32 and I for i64. A name may appear twice with different
// signatures: WasmEdge's socket extension changed some signatures in 0.12,
// and, as WasmEdge does, the runner gives each module the one it imports.
//
// wasi_unstable (preview 0) shares the functions of preview 1 but where its
// layouts differ (filestat, poll_oneoff's clock subscription, fd_seek's
// whence), and has no sockets beyond recv, send and shutdown.
#ifndef WRUNC_WASI_TABLE_H
#define WRUNC_WASI_TABLE_H

#define WASI_P1 "wasi_snapshot_preview1"
#define WASI_P0 "wasi_unstable"

#define WASI_COMMON_FUNCS(X, M) \
	X(M, "args_get", "ii", "i", wasi_args_get) \
	X(M, "args_sizes_get", "ii", "i", wasi_args_sizes_get) \
	X(M, "environ_get", "ii", "i", wasi_environ_get) \
	X(M, "environ_sizes_get", "ii", "i", wasi_environ_sizes_get) \
	X(M, "clock_res_get", "ii", "i", wasi_clock_res_get) \
	X(M, "clock_time_get", "iIi", "i", wasi_clock_time_get) \
	X(M, "fd_advise", "iIIi", "i", wasi_fd_advise) \
	X(M, "fd_allocate", "iII", "i", wasi_fd_allocate) \
	X(M, "fd_close", "i", "i", wasi_fd_close) \
	X(M, "fd_datasync", "i", "i", wasi_fd_datasync) \
	X(M, "fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get) \
	X(M, "fd_fdstat_set_flags", "ii", "i", wasi_fd_fdstat_set_flags) \
	X(M, "fd_fdstat_set_rights", "iII", "i", wasi_fd_fdstat_set_rights) \
	X(M, "fd_filestat_set_size", "iI", "i", wasi_fd_filestat_set_size) \
	X(M, "fd_filestat_set_times", "iIIi", "i", wasi_fd_filestat_set_times) \
	X(M, "fd_pread", "iiiIi", "i", wasi_fd_pread) \
	X(M, "fd_prestat_get", "ii", "i", wasi_fd_prestat_get) \
	X(M, "fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name) \
	X(M, "fd_pwrite", "iiiIi", "i", wasi_fd_pwrite) \
	X(M, "fd_read", "iiii", "i", wasi_fd_read) \
	X(M, "fd_readdir", "iiiIi", "i", wasi_fd_readdir) \
	X(M, "fd_renumber", "ii", "i", wasi_fd_renumber) \
	X(M, "fd_sync", "i", "i", wasi_fd_sync) \
	X(M, "fd_tell", "ii", "i", wasi_fd_tell) \
	X(M, "fd_write", "iiii", "i", wasi_fd_write) \
	X(M, "path_create_directory", "iii", "i", wasi_path_create_directory) \
	X(M, "path_filestat_set_times", "iiiiIIi", "i", wasi_path_filestat_set_times) \
	X(M, "path_link", "iiiiiii", "i", wasi_path_link) \
	X(M, "path_open", "iiiiiIIii", "i", wasi_path_open) \
	X(M, "path_readlink", "iiiiii", "i", wasi_path_readlink) \
	X(M, "path_remove_directory", "iii", "i", wasi_path_remove_directory) \
	X(M, "path_rename", "iiiiii", "i", wasi_path_rename) \
	X(M, "path_symlink", "iiiii", "i", wasi_path_symlink) \
	X(M, "path_unlink_file", "iii", "i", wasi_path_unlink_file) \
	X(M, "proc_exit", "i", "", wasi_proc_exit) \
	X(M, "proc_raise", "i", "i", wasi_proc_raise) \
	X(M, "random_get", "ii", "i", wasi_random_get) \
	X(M, "sched_yield", "", "i", wasi_sched_yield) \
	X(M, "sock_recv", "iiiiii", "i", wasi_sock_recv) \
	X(M, "sock_send", "iiiii", "i", wasi_sock_send) \
	X(M, "sock_shutdown", "ii", "i", wasi_sock_shutdown)

#define WASI_FUNCS(X) \
	WASI_COMMON_FUNCS(X, WASI_P1) \
	X(WASI_P1, "fd_filestat_get", "ii", "i", wasi_fd_filestat_get) \
	X(WASI_P1, "fd_seek", "iIii", "i", wasi_fd_seek) \
	X(WASI_P1, "path_filestat_get", "iiiii", "i", wasi_path_filestat_get) \
	X(WASI_P1, "poll_oneoff", "iiii", "i", wasi_poll_oneoff) \
	X(WASI_P1, "sock_accept", "iii", "i", wasi_sock_accept) \
	/* WasmEdge's socket extension, its 0.12 and later signatures */ \
	X(WASI_P1, "sock_open", "iii", "i", wasi_sock_open) \
	X(WASI_P1, "sock_bind", "iii", "i", wasi_sock_bind) \
	X(WASI_P1, "sock_connect", "iii", "i", wasi_sock_connect) \
	X(WASI_P1, "sock_listen", "ii", "i", wasi_sock_listen) \
	X(WASI_P1, "sock_getlocaladdr", "iii", "i", wasi_sock_getlocaladdr) \
	X(WASI_P1, "sock_getpeeraddr", "iii", "i", wasi_sock_getpeeraddr) \
	X(WASI_P1, "sock_getsockopt", "iiiii", "i", wasi_sock_getsockopt) \
	X(WASI_P1, "sock_setsockopt", "iiiii", "i", wasi_sock_setsockopt) \
	X(WASI_P1, "sock_recv_from", "iiiiiiii", "i", wasi_sock_recv_from) \
	X(WASI_P1, "sock_send_to", "iiiiiii", "i", wasi_sock_send_to) \
	X(WASI_P1, "sock_getaddrinfo", "iiiiiiii", "i", wasi_sock_getaddrinfo) \
	/* and the signatures of WasmEdge before 0.12 where they differ */ \
	X(WASI_P1, "sock_accept", "ii", "i", wasi_sock_accept_v1) \
	X(WASI_P1, "sock_getlocaladdr", "iiii", "i", wasi_sock_getlocaladdr_v1) \
	X(WASI_P1, "sock_getpeeraddr", "iiii", "i", wasi_sock_getpeeraddr_v1) \
	X(WASI_P1, "sock_recv_from", "iiiiiii", "i", wasi_sock_recv_from_v1) \
	WASI_COMMON_FUNCS(X, WASI_P0) \
	X(WASI_P0, "fd_filestat_get", "ii", "i", wasi_unstable_fd_filestat_get) \
	X(WASI_P0, "fd_seek", "iIii", "i", wasi_unstable_fd_seek) \
	X(WASI_P0, "path_filestat_get", "iiiii", "i", wasi_unstable_path_filestat_get) \
	X(WASI_P0, "poll_oneoff", "iiii", "i", wasi_unstable_poll_oneoff)

#endif
