;; Six linear memories, each grown 1 MiB at a time (and written, so that
;; the pages are real) until memory.grow fails or it has 20 MiB; exits with
;; the MiB all of them got together. Under a container memory limit the
;; total stays within the guest's share, however many memories share it.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory $m0 1)
  (memory $m1 1)
  (memory $m2 1)
  (memory $m3 1)
  (memory $m4 1)
  (memory $m5 1)
  (func $grow0 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m0 (i32.const 16)) (i32.const -1)))
        (memory.fill $m0 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func $grow1 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m1 (i32.const 16)) (i32.const -1)))
        (memory.fill $m1 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func $grow2 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m2 (i32.const 16)) (i32.const -1)))
        (memory.fill $m2 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func $grow3 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m3 (i32.const 16)) (i32.const -1)))
        (memory.fill $m3 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func $grow4 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m4 (i32.const 16)) (i32.const -1)))
        (memory.fill $m4 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func $grow5 (result i32)
    (local $mib i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (memory.grow $m5 (i32.const 16)) (i32.const -1)))
        (memory.fill $m5 (i32.mul (local.get $mib) (i32.const 0x100000)) (i32.const 1) (i32.const 0x100000))
        (local.set $mib (i32.add (local.get $mib) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $mib) (i32.const 20)))))
    (local.get $mib))
  (func (export "_start")
    (call $exit
      (call $grow0)
      (call $grow1)
      (i32.add)
      (call $grow2)
      (i32.add)
      (call $grow3)
      (i32.add)
      (call $grow4)
      (i32.add)
      (call $grow5)
      (i32.add))))
