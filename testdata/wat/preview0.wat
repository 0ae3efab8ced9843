;; wasi_unstable (preview 0), where its ABI differs from preview 1: a clock
;; subscription of 56 bytes, a filestat of 56, fd_seek's whence CUR=0, END=1,
;; SET=2. Stdin must be a file of 10 bytes. Exits 0 printing "ok", or with
;; the number of the failed check.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $exit (local.get $code)))))
  (func (export "_start")
    ;; a relative monotonic clock of 1 ms: userdata @0, tag @8, identifier
    ;; @16, id @24, timeout @32, precision @40, flags @48
    (i64.store (i32.const 0) (i64.const 42))
    (i32.store (i32.const 24) (i32.const 1))
    (i64.store (i32.const 32) (i64.const 1000000))
    (call $check (i32.eqz (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))) (i32.const 10))
    (call $check (i32.eq (i32.load (i32.const 200)) (i32.const 1)) (i32.const 11))
    (call $check (i64.eq (i64.load (i32.const 100)) (i64.const 42)) (i32.const 12))
    (call $check (i32.eqz (i32.load16_u (i32.const 108))) (i32.const 13))
    (call $check (i32.eqz (i32.load8_u (i32.const 110))) (i32.const 14))
    ;; filestat: 56 bytes, filetype @16, nlink (u32) @20, size @24
    (i32.store (i32.const 356) (i32.const 0x5a5a5a5a))
    (call $check (i32.eqz (call $fstat (i32.const 0) (i32.const 300))) (i32.const 20))
    (call $check (i32.eq (i32.load (i32.const 356)) (i32.const 0x5a5a5a5a)) (i32.const 21))
    (call $check (i32.eq (i32.load8_u (i32.const 316)) (i32.const 4)) (i32.const 22))
    (call $check (i32.eq (i32.load (i32.const 320)) (i32.const 1)) (i32.const 23))
    (call $check (i64.eq (i64.load (i32.const 324)) (i64.const 10)) (i32.const 24))
    ;; whence 2 is SET, 0 is CUR, 1 is END
    (call $check (i32.eqz (call $seek (i32.const 0) (i64.const 3) (i32.const 2) (i32.const 400))) (i32.const 30))
    (call $check (i64.eq (i64.load (i32.const 400)) (i64.const 3)) (i32.const 31))
    (call $check (i32.eqz (call $seek (i32.const 0) (i64.const 2) (i32.const 0) (i32.const 400))) (i32.const 32))
    (call $check (i64.eq (i64.load (i32.const 400)) (i64.const 5)) (i32.const 33))
    (call $check (i32.eqz (call $seek (i32.const 0) (i64.const -1) (i32.const 1) (i32.const 400))) (i32.const 34))
    (call $check (i64.eq (i64.load (i32.const 400)) (i64.const 9)) (i32.const 35))
    (i32.store (i32.const 500) (i32.const 520))
    (i32.store (i32.const 504) (i32.const 3))
    (i32.store (i32.const 520) (i32.const 0x0a6b6f)) ;; "ok\n"
    (call $check (i32.eqz (call $fd_write (i32.const 1) (i32.const 500) (i32.const 1) (i32.const 510))) (i32.const 40))))
