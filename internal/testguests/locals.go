package testguests

// LocalsModule returns a WASI command whose _start is one function of n
// i64 locals, each added to the next in a loop, so that all of them are live
// across it: ~10 bytes per local, and a compile whose time and memory grow
// much faster than its size (10,000 locals, a 100 KB module, take tens of
// seconds of CPU).
func LocalsModule(n int) []byte {
	var body []byte
	body = append(body, 1) // one run of locals
	body = uleb(body, uint64(n))
	body = append(body, 0x7e)       // of i64
	body = append(body, 0x03, 0x40) // loop, no result
	for i := 1; i < n; i++ {
		body = append(body, 0x20) // local.get i
		body = uleb(body, uint64(i))
		body = append(body, 0x20) // local.get i-1
		body = uleb(body, uint64(i-1))
		body = append(body, 0x7c, 0x21) // i64.add, local.set i
		body = uleb(body, uint64(i))
	}
	body = append(body, 0x20) // local.get n-1
	body = uleb(body, uint64(n-1))
	body = append(body, 0xa7, 0x0d, 0x00, 0x0b, 0x0b) // i32.wrap_i64, br_if 0, end loop, end function

	m := []byte("\x00asm\x01\x00\x00\x00")
	m = section(m, 1, []byte{1, 0x60, 0, 0})                                   // types: [] -> []
	m = section(m, 3, []byte{1, 0})                                            // functions: one of type 0
	m = section(m, 7, append([]byte{1, 6}, append([]byte("_start"), 0, 0)...)) // export it as _start
	code := append(uleb([]byte{1}, uint64(len(body))), body...)                // one function's code
	return section(m, 10, code)
}

// section appends a section of id holding content.
func section(m []byte, id byte, content []byte) []byte {
	return append(uleb(append(m, id), uint64(len(content))), content...)
}

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
