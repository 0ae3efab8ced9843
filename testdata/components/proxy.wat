;; A component that only serves wasi:http/incoming-handler (a wasi:http
;; proxy) and has no wasi:cli/run: refused at create.
(component
  (core module $m (func (export "handle")))
  (core instance $i (instantiate $m))
  (func $handle (canon lift (core func $i "handle")))
  (instance $h (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $h)))
