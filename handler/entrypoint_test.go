package handler

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenat2ScopedRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failures  []error // returned by the first calls, then success
		wantCalls int
		wantErr   string // empty: success
	}{
		{name: "first try", wantCalls: 1},
		{name: "interrupted", failures: []error{unix.EINTR, unix.EINTR}, wantCalls: 3},
		{name: "raced rename", failures: []error{unix.EAGAIN, unix.EXDEV, unix.EAGAIN}, wantCalls: 4},
		{name: "raced on every try", failures: repeat(unix.EAGAIN, scopedLookupRetries+10), wantCalls: scopedLookupRetries + 1,
			wantErr: "openat2 /a.wasm: the path kept changing while it was resolved (129 attempts): resource temporarily unavailable"},
		{name: "missing", failures: []error{unix.ENOENT}, wantCalls: 1, wantErr: "openat2 /a.wasm: no such file or directory"},
		{name: "no openat2", failures: []error{unix.ENOSYS}, wantCalls: 1, wantErr: "function not implemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			fake := func(root int, p string, how *unix.OpenHow) (int, error) {
				calls++
				if calls <= len(tc.failures) {
					return -1, tc.failures[calls-1]
				}
				return 42, nil
			}
			fd, err := openat2Scoped(fake, 3, "/a.wasm", &unix.OpenHow{})
			if calls != tc.wantCalls {
				t.Errorf("openat2 called %d times, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil || fd != 42 {
					t.Fatalf("got fd %d, err %v; want fd 42", fd, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got fd %d, err %v; want an error with %q", fd, err, tc.wantErr)
			}
			last := tc.failures[len(tc.failures)-1]
			if !errors.Is(err, last) {
				t.Errorf("error %v does not wrap %v", err, last)
			}
		})
	}
}

func repeat(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}
