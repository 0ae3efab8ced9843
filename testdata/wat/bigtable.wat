;; Grows a table 64 Ki elements at a time (and fills them, so that the
;; pages are real) until table.grow fails or it has 125 steps; exits with
;; the steps it got. Under a container memory limit a table is bounded too.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (table $t 1 funcref)
  (func (export "_start")
    (local $steps i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (table.grow $t (ref.null func) (i32.const 65536)) (i32.const -1)))
        (table.fill $t (i32.mul (local.get $steps) (i32.const 65536)) (ref.func $noop) (i32.const 65536))
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $steps) (i32.const 125)))))
    (call $exit (local.get $steps)))
  (func $noop)
  (elem declare func $noop))
