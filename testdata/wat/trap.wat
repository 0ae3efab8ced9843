;; Traps two calls deep, for a backtrace.
(module
  (func $crash unreachable)
  (func $middle (call $crash))
  (func (export "_start") (call $middle)))
