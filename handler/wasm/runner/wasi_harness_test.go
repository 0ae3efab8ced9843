package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// harness builds ctest/harness.c with the runner's WASI files (all but the
// wasmtime glue), with the address and undefined-behaviour sanitizers.
func harness(t *testing.T) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	out := filepath.Join(t.TempDir(), "harness")
	args := []string{"-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-Wall", "-Werror",
		"-I" + dir, "-I" + filepath.Join(dir, "include"), "-o", out}
	for _, f := range []string{"wasi_errno.c", "wasi_fd.c", "wasi_path.c", "wasi_poll.c", "wasi_sock.c",
		"wasi_resolve.c", "wasi_env.c", "ctest/harness.c"} {
		args = append(args, filepath.Join(dir, f))
	}
	if b, err := exec.Command("cc", append(args, "-lcares")...).CombinedOutput(); err != nil {
		t.Fatalf("build the harness: %v\n%s", err, b)
	}
	return out
}

// The WASI errnos, in the spec's order.
var wasiErrnos = strings.Fields(`SUCCESS 2BIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF
	BADMSG BUSY CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST FAULT
	FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE MLINK MSGSIZE MULTIHOP
	NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV NOENT NOEXEC NOLCK NOLINK NOMEM NOMSG
	NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY NOTRECOVERABLE NOTSOCK NOTSUP NOTTY NXIO OVERFLOW
	OWNERDEAD PERM PIPE PROTO PROTONOSUPPORT PROTOTYPE RANGE ROFS SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV
	NOTCAPABLE`)

// Each Linux errno and the WASI errno a guest sees for it: its namesake,
// or for the Linux-only ones what wasmtime reports.
var errnoRows = []struct {
	linux unix.Errno
	wasi  string
}{
	{unix.E2BIG, "2BIG"}, {unix.EACCES, "ACCES"}, {unix.EADDRINUSE, "ADDRINUSE"},
	{unix.EADDRNOTAVAIL, "ADDRNOTAVAIL"}, {unix.EAFNOSUPPORT, "AFNOSUPPORT"}, {unix.EAGAIN, "AGAIN"},
	{unix.EALREADY, "ALREADY"}, {unix.EBADF, "BADF"}, {unix.EBADMSG, "BADMSG"}, {unix.EBUSY, "BUSY"},
	{unix.ECANCELED, "CANCELED"}, {unix.ECHILD, "CHILD"}, {unix.ECONNABORTED, "CONNABORTED"},
	{unix.ECONNREFUSED, "CONNREFUSED"}, {unix.ECONNRESET, "CONNRESET"}, {unix.EDEADLK, "DEADLK"},
	{unix.EDESTADDRREQ, "DESTADDRREQ"}, {unix.EDOM, "DOM"}, {unix.EDQUOT, "DQUOT"}, {unix.EEXIST, "EXIST"},
	{unix.EFAULT, "FAULT"}, {unix.EFBIG, "FBIG"}, {unix.EHOSTUNREACH, "HOSTUNREACH"}, {unix.EIDRM, "IDRM"},
	{unix.EILSEQ, "ILSEQ"}, {unix.EINPROGRESS, "INPROGRESS"}, {unix.EINTR, "INTR"}, {unix.EINVAL, "INVAL"},
	{unix.EIO, "IO"}, {unix.EISCONN, "ISCONN"}, {unix.EISDIR, "ISDIR"}, {unix.ELOOP, "LOOP"},
	{unix.EMFILE, "MFILE"}, {unix.EMLINK, "MLINK"}, {unix.EMSGSIZE, "MSGSIZE"}, {unix.EMULTIHOP, "MULTIHOP"},
	{unix.ENAMETOOLONG, "NAMETOOLONG"}, {unix.ENETDOWN, "NETDOWN"}, {unix.ENETRESET, "NETRESET"},
	{unix.ENETUNREACH, "NETUNREACH"}, {unix.ENFILE, "NFILE"}, {unix.ENOBUFS, "NOBUFS"}, {unix.ENODEV, "NODEV"},
	{unix.ENOENT, "NOENT"}, {unix.ENOEXEC, "NOEXEC"}, {unix.ENOLCK, "NOLCK"}, {unix.ENOLINK, "NOLINK"},
	{unix.ENOMEM, "NOMEM"}, {unix.ENOMSG, "NOMSG"}, {unix.ENOPROTOOPT, "NOPROTOOPT"}, {unix.ENOSPC, "NOSPC"},
	{unix.ENOSYS, "NOSYS"}, {unix.ENOTCONN, "NOTCONN"}, {unix.ENOTDIR, "NOTDIR"}, {unix.ENOTEMPTY, "NOTEMPTY"},
	{unix.ENOTRECOVERABLE, "NOTRECOVERABLE"}, {unix.ENOTSOCK, "NOTSOCK"}, {unix.EOPNOTSUPP, "NOTSUP"},
	{unix.ENOTTY, "NOTTY"}, {unix.ENXIO, "NXIO"}, {unix.EOVERFLOW, "OVERFLOW"}, {unix.EOWNERDEAD, "OWNERDEAD"},
	{unix.EPERM, "PERM"}, {unix.EPIPE, "PIPE"}, {unix.EPROTO, "PROTO"}, {unix.EPROTONOSUPPORT, "PROTONOSUPPORT"},
	{unix.EPROTOTYPE, "PROTOTYPE"}, {unix.ERANGE, "RANGE"}, {unix.EROFS, "ROFS"}, {unix.ESPIPE, "SPIPE"},
	{unix.ESRCH, "SRCH"}, {unix.ESTALE, "STALE"}, {unix.ETIMEDOUT, "TIMEDOUT"}, {unix.ETXTBSY, "TXTBSY"},
	{unix.EXDEV, "XDEV"},
	{unix.ENOTBLK, "NOTSUP"}, {unix.ESOCKTNOSUPPORT, "NOTSUP"}, {unix.EPFNOSUPPORT, "AFNOSUPPORT"},
	{unix.ENOKEY, "PERM"}, {unix.EKEYREJECTED, "PERM"}, {unix.EREMOTEIO, "IO"}, {unix.ENOMEDIUM, "NODEV"},
	{unix.ENONET, "NETUNREACH"}, {unix.ECOMM, "IO"}, {unix.ENODATA, "NOMSG"}, {unix.ETIME, "TIMEDOUT"},
	{unix.ENOSR, "NOMEM"}, {unix.ENOSTR, "INVAL"}, {unix.EUSERS, "PERM"}, {unix.EHOSTDOWN, "HOSTUNREACH"},
	{unix.ESHUTDOWN, "PIPE"}, {unix.ETOOMANYREFS, "MFILE"}, {unix.EBADFD, "BADF"}, {unix.ENOTUNIQ, "INVAL"},
	{unix.ERFKILL, "NETDOWN"}, {unix.EHWPOISON, "IO"},
	// Anything else is an I/O error, never a success.
	{unix.ECHRNG, "IO"}, {unix.ELIBBAD, "IO"},
}

func TestWasiErrnoTable(t *testing.T) {
	out, err := exec.Command(harness(t), "errno").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[unix.Errno]int{}
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, line := range rows {
		var linux, wasi, mapped int
		if _, err := fmt.Sscan(line, &linux, &wasi, &mapped); err != nil || wasi != mapped {
			t.Fatalf("table row %q: %v", line, err)
		}
		got[unix.Errno(linux)] = wasi
	}
	number := map[string]int{}
	for i, name := range wasiErrnos {
		number[name] = i
	}
	for _, row := range errnoRows {
		t.Run(row.linux.Error(), func(t *testing.T) {
			want := number[row.wasi]
			have, ok := got[row.linux]
			if !ok {
				have = number["IO"] // not in the table: the fallback
			}
			if have != want {
				t.Errorf("%v maps to WASI %d (%s), want %d (%s)", row.linux, have, wasiErrnos[have], want, row.wasi)
			}
		})
	}
	if len(rows) != len(errnoRows)-2 {
		t.Errorf("the table has %d rows, the test %d", len(rows), len(errnoRows)-2)
	}
}

// TestWasiFuzz calls every host function with random arguments on a random
// memory: each must return an errno, never crash (the sanitizers stop the
// harness on any out-of-bounds access or undefined behaviour).
func TestWasiFuzz(t *testing.T) {
	bin := harness(t)
	for seed := 1; seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			cmd := exec.Command(bin, "fuzz", t.TempDir(), fmt.Sprint(seed), "300000")
			cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "ok\n" {
				t.Errorf("harness: %v\n%s", err, out)
			}
		})
	}
}
