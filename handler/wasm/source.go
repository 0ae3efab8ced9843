package wasm

import (
	"fmt"
	"os"

	units "github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// DefaultMaxModuleSize bounds a module file by default: larger than any
// real module (language runtimes compiled to wasm, such as Python's or
// Ruby's, are tens of MB), small enough that hashing and reading one costs
// a create a bounded share of the node's memory.
const DefaultMaxModuleSize = 128 << 20

// checkModuleFile refuses, before anything of it is read, a module file
// that is over the size limit (maxSize; 0: none) or sparse. The image, or
// a running container that plants a module for a later exec, chooses the
// file: a sparse one of many GiB costs nothing on disk, and would cost the
// node that much memory and minutes of CPU to hash and read.
func checkModuleFile(f *os.File, name string, maxSize int64) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("read module %s: %w", name, err)
	}
	if maxSize > 0 && st.Size > maxSize {
		return fmt.Errorf("module %s is %s, over the limit of %s (--max-module-size, $WRUNC_MAX_MODULE_SIZE)",
			name, units.BytesSize(float64(st.Size)), units.BytesSize(float64(maxSize)))
	}
	if st.Size == 0 {
		return nil
	}
	// The first hole is at the end of a file that has none. (st_blocks
	// would tell too, but a compressing file system makes a dense file
	// look sparse by it.)
	hole, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_HOLE)
	if err != nil {
		return fmt.Errorf("read module %s: look for holes: %w", name, err)
	}
	if hole < st.Size {
		return fmt.Errorf("module %s is a sparse file (%s with holes): refused", name, units.BytesSize(float64(st.Size)))
	}
	return nil
}
