;; Traps two calls deep, for a backtrace. Its memory is for the preview 1
;; adapter, which makes a component of it.
(module
  (memory (export "memory") 1)
  (func $crash unreachable)
  (func $middle (call $crash))
  (func (export "_start") (call $middle)))
