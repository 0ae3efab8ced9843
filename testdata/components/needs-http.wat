;; A wasi:cli/command component that also imports wasi:http, which wrunc
;; cannot provide: refused at create.
(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func))))
  (core module $m (func (export "run") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $cli (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli)))
