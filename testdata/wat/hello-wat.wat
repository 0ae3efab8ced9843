;; The hello guest without a language runtime: writes the line Go's hello
;; writes, with one fd_write, and returns. Beside the Go hello, it shows what
;; a wasm start costs apart from the guest's own runtime (make bench).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm\n")
  (func (export "_start")
    ;; iovec {buf 16, len 16} at 0; bytes written at 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then unreachable))))
