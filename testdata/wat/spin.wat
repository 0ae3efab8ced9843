;; Spins in wasm code forever, never entering the host.
(module
  (func (export "_start")
    (loop $forever (br $forever))))
