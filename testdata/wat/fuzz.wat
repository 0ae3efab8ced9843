;; Calls host functions with random arguments on a memory of random
;; contents, 20000 times: every call must return (an errno, or success);
;; the runner must never crash. Exits 0 when done. Calls that may wait
;; forever (reads, accept, receives, poll_oneoff), end the guest
;; (proc_exit) or fill a disk (fd_allocate) are left out. Run it in a
;; disposable rootfs: it creates, renames and removes files at random there.
;; Generated with its list of functions; the arguments are often small numbers
;; (descriptors, flags), pointers into memory or at its edge.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $fd_fdstat_set_rights (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fd_filestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $fd_filestat_set_times (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_advise" (func $fd_advise (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_sync" (func $fd_sync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_datasync" (func $fd_datasync (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $path_filestat_set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield  (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_open" (func $sock_open (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_bind" (func $sock_bind (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_listen" (func $sock_listen (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_connect" (func $sock_connect (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getlocaladdr" (func $sock_getlocaladdr (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getpeeraddr" (func $sock_getpeeraddr (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getsockopt" (func $sock_getsockopt (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_setsockopt" (func $sock_setsockopt (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send_to" (func $sock_send_to (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $state (mut i64) (i64.const 0))
  ;; xorshift64
  (func $rnd (result i64)
    (local $x i64)
    (local.set $x (global.get $state))
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
    (global.set $state (local.get $x))
    (local.get $x))
  (func $below (param $n i64) (result i32)
    (i32.wrap_i64 (i64.rem_u (call $rnd) (local.get $n))))
  (func $a32 (result i32)
    (local $k i32)
    (local.set $k (call $below (i64.const 6)))
    (if (result i32) (i32.eq (local.get $k) (i32.const 0)) (then (call $below (i64.const 8)))
      (else (if (result i32) (i32.le_u (local.get $k) (i32.const 2)) (then (call $below (i64.const 65536)))
        (else (if (result i32) (i32.eq (local.get $k) (i32.const 3))
          (then (i32.sub (i32.const 65536) (call $below (i64.const 3))))
          (else (if (result i32) (i32.eq (local.get $k) (i32.const 4)) (then (call $below (i64.const 64)))
            (else (i32.wrap_i64 (call $rnd)))))))))))
  (func $a64 (result i64)
    (if (result i64) (i32.eqz (call $below (i64.const 2)))
      (then (i64.extend_i32_u (call $below (i64.const 4096))))
      (else (call $rnd))))
  (func $scribble
    (local $i i32)
    (loop $more
      (i32.store (call $below (i64.const 65532)) (call $a32))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 32)))))
  (func (export "_start")
    (local $n i32)
    (drop (call $random_get (i32.const 0) (i32.const 8)))
    (global.set $state (i64.or (i64.load (i32.const 0)) (i64.const 1)))
    (loop $calls
      (if (i32.eqz (i32.and (local.get $n) (i32.const 15))) (then (call $scribble)))
      (block $done
      (block $f48
      (block $f47
      (block $f46
      (block $f45
      (block $f44
      (block $f43
      (block $f42
      (block $f41
      (block $f40
      (block $f39
      (block $f38
      (block $f37
      (block $f36
      (block $f35
      (block $f34
      (block $f33
      (block $f32
      (block $f31
      (block $f30
      (block $f29
      (block $f28
      (block $f27
      (block $f26
      (block $f25
      (block $f24
      (block $f23
      (block $f22
      (block $f21
      (block $f20
      (block $f19
      (block $f18
      (block $f17
      (block $f16
      (block $f15
      (block $f14
      (block $f13
      (block $f12
      (block $f11
      (block $f10
      (block $f9
      (block $f8
      (block $f7
      (block $f6
      (block $f5
      (block $f4
      (block $f3
      (block $f2
      (block $f1
      (block $f0
        (br_table $f0 $f1 $f2 $f3 $f4 $f5 $f6 $f7 $f8 $f9 $f10 $f11 $f12 $f13 $f14 $f15 $f16 $f17 $f18 $f19 $f20 $f21 $f22 $f23 $f24 $f25 $f26 $f27 $f28 $f29 $f30 $f31 $f32 $f33 $f34 $f35 $f36 $f37 $f38 $f39 $f40 $f41 $f42 $f43 $f44 $f45 $f46 $f47 $f48 $f0 (call $below (i64.const 49))))
     (drop (call $fd_write (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $fd_pwrite (call $a32) (call $a32) (call $a32) (call $a64) (call $a32))) (br $done))
     (drop (call $fd_pread (call $a32) (call $a32) (call $a32) (call $a64) (call $a32))) (br $done))
     (drop (call $fd_seek (call $a32) (call $a64) (call $a32) (call $a32))) (br $done))
     (drop (call $fd_tell (call $a32) (call $a32))) (br $done))
     (drop (call $fd_close (call $a32))) (br $done))
     (drop (call $fd_renumber (call $a32) (call $a32))) (br $done))
     (drop (call $fd_fdstat_get (call $a32) (call $a32))) (br $done))
     (drop (call $fd_fdstat_set_flags (call $a32) (call $a32))) (br $done))
     (drop (call $fd_fdstat_set_rights (call $a32) (call $a64) (call $a64))) (br $done))
     (drop (call $fd_filestat_get (call $a32) (call $a32))) (br $done))
     (drop (call $fd_filestat_set_size (call $a32) (call $a64))) (br $done))
     (drop (call $fd_filestat_set_times (call $a32) (call $a64) (call $a64) (call $a32))) (br $done))
     (drop (call $fd_readdir (call $a32) (call $a32) (call $a32) (call $a64) (call $a32))) (br $done))
     (drop (call $fd_prestat_get (call $a32) (call $a32))) (br $done))
     (drop (call $fd_prestat_dir_name (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $fd_advise (call $a32) (call $a64) (call $a64) (call $a32))) (br $done))
     (drop (call $fd_sync (call $a32))) (br $done))
     (drop (call $fd_datasync (call $a32))) (br $done))
     (drop (call $path_create_directory (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_filestat_get (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_filestat_set_times (call $a32) (call $a32) (call $a32) (call $a32) (call $a64) (call $a64) (call $a32))) (br $done))
     (drop (call $path_link (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_open (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a64) (call $a64) (call $a32) (call $a32))) (br $done))
     (drop (call $path_readlink (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_remove_directory (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_rename (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_symlink (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $path_unlink_file (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $args_get (call $a32) (call $a32))) (br $done))
     (drop (call $args_sizes_get (call $a32) (call $a32))) (br $done))
     (drop (call $environ_get (call $a32) (call $a32))) (br $done))
     (drop (call $environ_sizes_get (call $a32) (call $a32))) (br $done))
     (drop (call $clock_res_get (call $a32) (call $a32))) (br $done))
     (drop (call $clock_time_get (call $a32) (call $a64) (call $a32))) (br $done))
     (drop (call $random_get (call $a32) (call $a32))) (br $done))
     (drop (call $sched_yield)) (br $done))
     (drop (call $proc_raise (call $a32))) (br $done))
     (drop (call $sock_open (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_bind (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_listen (call $a32) (call $a32))) (br $done))
     (drop (call $sock_connect (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_getlocaladdr (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_getpeeraddr (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_getsockopt (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_setsockopt (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_send_to (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_send (call $a32) (call $a32) (call $a32) (call $a32) (call $a32))) (br $done))
     (drop (call $sock_shutdown (call $a32) (call $a32))) (br $done))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $calls (i32.lt_u (local.get $n) (i32.const 20000))))
    (call $exit (i32.const 0))))
