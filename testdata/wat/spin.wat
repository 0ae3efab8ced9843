;; Spins in wasm code forever, never entering the host. Its memory is for
;; the preview 1 adapter, which makes a component of it.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
