;; Grows its memory 1 MiB at a time until memory.grow fails, then exits with
;; the number of MiB it got (at most 125, WASI's largest exit status): the
;; in-engine memory limit made visible.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 125)))))
    (call $exit (local.get $mib))))
