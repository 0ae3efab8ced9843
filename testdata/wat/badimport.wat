;; Imports something no WASI runtime provides.
(module
  (import "env" "foo" (func $foo))
  (func (export "_start") (call $foo)))
