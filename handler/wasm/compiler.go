package wasm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler"
)

// A module is compiled in a process of its own, the compiler: wrunc's
// binary re-executed with compilerMarker as argv[1], under kernel-enforced
// limits (CompileLimits), at a lower priority, and killed with the process
// that started it. The caller keeps the cache: the compiler only gets the
// module's bytes (in a sealed memfd, fd 3) and writes the serialized
// artifact to its stdout, or one line of error to its stderr.
const compilerMarker = "wrunc-wasm-compiler"

// compilerNice is how much lower than its caller's the compiler's priority
// is: at nice +10 a compile gets about a tenth of a core that a process of
// the caller's priority wants, so it cannot starve the node's containers,
// while an idle node still gives it every core.
const compilerNice = 10

// compilerUID is the user the compiler runs as when started by root, so that
// a module that subverted the compiler would hold no privilege: only the
// descriptors of its module and its two pipes.
const compilerUID = 65534

// maxCompilerMessage bounds what is kept of the compiler's stderr: its error
// line, or the first lines of a crash.
const maxCompilerMessage = 4096

// The compiler is recognised at this package's initialisation, before any
// command-line parsing (or a test's TestMain): every binary that compiles
// through this package, wrunc and its tests alike, re-executes itself as the
// compiler, as the runner (package runner) is recognised in its C
// constructor.
func init() {
	if len(os.Args) > 1 && os.Args[1] == compilerMarker {
		os.Exit(compilerMain(os.Args[2:]))
	}
}

// compilerMain is the compiler process: args are its CPU limit in seconds,
// its memory limit in bytes (0: none), what it compiles (compilerKinds) and
// the module's name for messages.
func compilerMain(args []string) int {
	if err := runCompiler(args); err != nil {
		fmt.Fprint(os.Stderr, strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

func runCompiler(args []string) error {
	if len(args) != 4 {
		return errors.New("wrunc's compiler is started by wrunc itself")
	}
	cpu, err1 := strconv.ParseUint(args[0], 10, 64)
	memory, err2 := strconv.ParseUint(args[1], 10, 64)
	kind, ok := compilerKinds[args[2]]
	name := args[3]
	if !ok {
		err2 = errors.Join(err2, fmt.Errorf("unknown kind %q", args[2]))
	}
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("compile %s: compiler limits: %w", name, err)
	}
	if err := closeInherited(); err != nil {
		return fmt.Errorf("compile %s: close inherited descriptors: %w", name, err)
	}
	if err := confine(cpu, memory); err != nil {
		return fmt.Errorf("compile %s: confine the compiler: %w", name, err)
	}
	// SIGXCPU, at the soft CPU limit, is the compiler's own word that the
	// limit stopped it (the Go runtime would ignore it).
	xcpu := make(chan os.Signal, 1)
	signal.Notify(xcpu, unix.SIGXCPU)
	go func() {
		<-xcpu
		os.Exit(exitCPULimit)
	}()
	module, err := mapModule(os.NewFile(3, "module"))
	if err != nil {
		return fmt.Errorf("compile %s: map module: %w", name, err)
	}
	var artifact []byte
	if kind == handler.Component {
		artifact, err = compileComponent(module, name)
	} else {
		artifact, err = compile(NewEngine(), module, name)
	}
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(artifact); err != nil {
		return fmt.Errorf("compile %s: hand over the artifact: %w", name, err)
	}
	return nil
}

// closeInherited closes the descriptors the compiler got beyond its module
// and stdio: any that wrunc's caller left open across exec (an engine's
// preserved fds, say), which wrunc passes on to the processes it starts.
// Those are the ones without FD_CLOEXEC: every descriptor the Go runtime
// opens has it.
func closeInherited() error {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range fds {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 3 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue // the directory's own descriptor, closed by now, or the runtime's
		}
		if err := unix.Close(fd); err != nil {
			return err
		}
	}
	return nil
}

// compilerKinds names, in the compiler's arguments, what it compiles: a
// module's binary (WatText's is converted before) or a component.
var compilerKinds = map[string]handler.Format{kindModule: handler.CoreModule, kindComponent: handler.Component}

// compilerKind is kind's name in compilerKinds.
func compilerKind(kind handler.Format) string {
	if kind == handler.Component {
		return kindComponent
	}
	return kindModule
}

// exitCPULimit is the compiler's status when its CPU time limit stopped it.
const exitCPULimit = 3

// confine puts the compiler under its limits before it reads the module:
// RLIMIT_CPU (SIGXCPU at the limit, then SIGKILL a second later, whatever
// its threads do), RLIMIT_DATA (writable private memory:
// the heap, thread stacks, anonymous mappings; not the address space that
// the Go runtime and glibc reserve without using, over a GiB), and, when
// root, no privilege.
func confine(cpuSeconds, memory uint64) error {
	if cpuSeconds > 0 {
		if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpuSeconds, Max: cpuSeconds + 1}); err != nil {
			return fmt.Errorf("RLIMIT_CPU: %w", err)
		}
	}
	if memory > 0 {
		if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: memory, Max: memory}); err != nil {
			return fmt.Errorf("RLIMIT_DATA: %w", err)
		}
	}
	return dropPrivileges()
}

// dropPrivileges makes the compiler, when started as root, nobody with no
// capabilities and no way to gain any. A user namespace that maps no such
// user leaves it as it is: its root is no one on the host.
func dropPrivileges() error {
	if os.Geteuid() != 0 {
		return nil
	}
	parent := os.Getppid()
	// syscall's (not x/sys's) set*id apply to every thread of the process.
	err := syscall.Setgroups(nil)
	if err == nil {
		err = syscall.Setresgid(compilerUID, compilerUID, compilerUID)
	}
	if err == nil {
		err = syscall.Setresuid(compilerUID, compilerUID, compilerUID)
	}
	if errors.Is(err, unix.EINVAL) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("drop privileges: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	// Changing credentials cleared the parent-death signal: set it again,
	// and die now if the parent died meanwhile.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("parent-death signal: %w", err)
	}
	if os.Getppid() != parent {
		return errors.New("wrunc exited")
	}
	return nil
}

// mapModule maps the module's memfd read-only: the compiler reads it in
// place instead of copying it into its heap.
func mapModule(f *os.File) ([]byte, error) {
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, nil
	}
	// Left mapped: the process ends with the compile.
	return unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
}

// compileBounded is the compile of a Cache: it refuses a module that an
// earlier compile under the same or higher limits was stopped for, and
// otherwise compiles it in a compiler process, remembering (in the memo,
// for the boot) a stop that is the module's own doing. entry is the cache
// entry's path without suffix.
func (c *Cache) compileBounded(module []byte, kind handler.Format, name, entry string) ([]byte, error) {
	b := c.Limits.forModule(len(module))
	m := c.memo()
	key := verdictKey(filepath.Base(entry))
	if record, ok := m.get(key); ok {
		if kind, bound, err := parseVerdict(record); err == nil && stillRefused(kind, bound, b) {
			return nil, &Refusal{Module: name, Kind: kind, Bound: bound, Earlier: true, Per: c.Limits.CPUPerMiB}
		}
	}
	logrus.Debugf("compiling %s in a compiler process (%s)", name, b)
	artifact, err := compileInCompiler(module, kind, name, b)
	var refusal *Refusal
	if errors.As(err, &refusal) {
		refusal.Per = c.Limits.CPUPerMiB
		if refusal.remembered() {
			m.put(key, refusal.record())
		}
	}
	return artifact, err
}

// compileInCompiler runs one compiler process under b and returns the
// artifact it wrote, or why there is none: a *Refusal when a limit stopped
// it.
func compileInCompiler(module []byte, kind handler.Format, name string, b bounds) ([]byte, error) {
	src, err := sealedMemfd("wrunc-module", module)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	defer src.Close()
	out, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	defer out.Close()
	message := &headWriter{max: maxCompilerMessage}
	cmd := &exec.Cmd{
		// The binary this process runs, even if its file was replaced since:
		// its engine is the one whose fingerprint keys the entry.
		Path: "/proc/self/exe",
		Args: []string{"wrunc", compilerMarker, strconv.FormatInt(int64(b.cpu/time.Second), 10), strconv.FormatInt(b.memory, 10),
			compilerKind(kind), name},
		Env:         []string{}, // nothing of the caller's environment
		ExtraFiles:  []*os.File{src},
		Stdout:      outW,
		Stderr:      message,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL},
	}
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		// The compiler is forked from a thread of its own, never unlocked,
		// so that it ends with this goroutine: the child inherits the
		// thread's lowered priority (nice is per thread), which this
		// process must not keep, and its parent-death signal fires when
		// the thread that forked it ends, which must not happen while it
		// runs.
		runtime.LockOSThread()
		if err := lowerPriority(); err != nil {
			started <- err
			return
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	err = <-started
	outW.Close()
	if err != nil {
		return nil, fmt.Errorf("compile %s: start the compiler: %w", name, err)
	}
	var timedOut atomic.Bool
	if b.timeout > 0 {
		timer := time.AfterFunc(b.timeout, func() {
			timedOut.Store(true)
			_ = cmd.Process.Kill() // fails only once it has exited
		})
		defer timer.Stop()
	}
	artifact, readErr := readArtifact(out, len(module), b.memory)
	if readErr != nil {
		_ = cmd.Process.Kill()
	}
	if err := <-exited; cmd.ProcessState == nil {
		return nil, fmt.Errorf("compile %s: wait for the compiler: %w", name, err)
	}
	return verdictOf(cmd.ProcessState, message.String(), timedOut.Load(), readErr, artifact, name, b)
}

// verdictOf tells what a compiler's end means.
func verdictOf(state *os.ProcessState, message string, timedOut bool, readErr error, artifact []byte, name string, b bounds) ([]byte, error) {
	status, _ := state.Sys().(syscall.WaitStatus)
	switch {
	case status.Exited() && status.ExitStatus() == 0 && readErr == nil:
		return artifact, nil
	case timedOut && status.Signaled():
		return nil, &Refusal{Module: name, Kind: boundTimeout, Bound: int64(b.timeout)}
	// Its own exit at SIGXCPU, or the kernel's SIGKILL at the hard limit a
	// second later, if even that did not run.
	case b.cpu > 0 && (status.Exited() && status.ExitStatus() == exitCPULimit ||
		status.Signaled() && status.Signal() == unix.SIGKILL && state.UserTime()+state.SystemTime() >= b.cpu):
		return nil, &Refusal{Module: name, Kind: boundCPU, Bound: int64(b.cpu)}
	// (Not in the module's name, which the image chose.)
	case b.memory > 0 && outOfMemory(strings.ReplaceAll(message, name, "")):
		return nil, &Refusal{Module: name, Kind: boundMemory, Bound: b.memory}
	case status.Exited() && status.ExitStatus() == 1 && message != "":
		return nil, errors.New(message) // the compiler's own error, such as an invalid module
	case readErr != nil:
		return nil, fmt.Errorf("compile %s: read the artifact: %w", name, readErr)
	}
	first, _, _ := strings.Cut(message, "\n")
	return nil, fmt.Errorf("compile %s: the compiler failed (%v): %s", name, state, strings.TrimSpace(first))
}

// outOfMemory says whether a compiler's message is that of a failed
// allocation: from Rust's allocator (wasmtime), the Go runtime, or of a new
// thread's stack, which pthread_create reports as EAGAIN (wasmtime's thread
// pool or the Go runtime's threads).
func outOfMemory(message string) bool {
	m := strings.ToLower(message)
	for _, sign := range []string{"memory allocation of", "out of memory", "cannot allocate memory",
		"failed to create new os thread", "failed to spawn thread", "resource temporarily unavailable"} {
		if strings.Contains(m, sign) {
			return true
		}
	}
	return false
}

// readArtifact reads what the compiler writes, in one buffer sized for a
// typical artifact (about 3x its module), and no more than the compiler's
// memory bound could hold.
func readArtifact(r io.Reader, moduleSize int, memory int64) ([]byte, error) {
	var buf bytes.Buffer
	if memory <= 0 {
		buf.Grow(3*moduleSize + 1<<20)
		_, err := buf.ReadFrom(r)
		return buf.Bytes(), err
	}
	buf.Grow(int(min(int64(3*moduleSize)+1<<20, memory)))
	n, err := buf.ReadFrom(io.LimitReader(r, memory+1))
	if err == nil && n > memory {
		err = fmt.Errorf("more than the compiler's memory limit (%d bytes)", memory)
	}
	return buf.Bytes(), err
}

// lowerPriority lowers the calling thread's scheduling priority by
// compilerNice (the kernel's bottom, 19, at most).
func lowerPriority() error {
	tid := unix.Gettid()
	// The system call returns 20 - nice.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("read priority: %w", err)
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, min(20-prio+compilerNice, 19)); err != nil {
		return fmt.Errorf("lower priority: %w", err)
	}
	return nil
}

// sealedMemfd returns a memfd holding data that no one can change any more.
func sealedMemfd(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("write memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return f, nil
}

// headWriter keeps the first max bytes written to it and discards the rest.
type headWriter struct {
	max int
	buf bytes.Buffer
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *headWriter) String() string { return strings.TrimSpace(w.buf.String()) }
