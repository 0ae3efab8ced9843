package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/wrunc/wrunc/handler/wasm"
)

// Handoff carries a precompiled artifact to a runner that may already be
// started, so that the host can look the module up (or compile it) while
// libcontainer sets the container up, instead of before. The runner inherits
// one end of a socket pair (ContainerEnd, in the process's ExtraFiles) and
// receives the artifact's fd over it (runner.c); a message already sent
// stays queued after the sender exits, so `create` can hand it over and
// `start` run it later.
type Handoff struct {
	host      *os.File
	container *os.File
}

// NewHandoff returns a handoff whose ends are both close-on-exec;
// libcontainer clears that flag on the ExtraFiles it passes.
func NewHandoff() (*Handoff, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("artifact handoff: %w", err)
	}
	return &Handoff{
		host:      os.NewFile(uintptr(fds[0]), "artifact handoff"),
		container: os.NewFile(uintptr(fds[1]), "artifact handoff (runner)"),
	}, nil
}

// ContainerEnd is the runner's end, for the process's ExtraFiles.
func (h *Handoff) ContainerEnd() *os.File { return h.container }

// Send hands artifact to the runner, with the facts of its module and
// whether it is a component (struct runner_handoff in runner.h). The caller keeps artifact open until the
// message is queued, which it is when Send returns.
func (h *Handoff) Send(artifact *os.File, facts wasm.ModuleFacts) error {
	var component uint32
	if facts.Component {
		component = 1
	}
	msg := binary.NativeEndian.AppendUint32(nil, facts.Memories)
	msg = binary.NativeEndian.AppendUint32(msg, facts.Tables)
	msg = binary.NativeEndian.AppendUint32(msg, component)
	if len(msg) != handoffSize {
		return fmt.Errorf("hand the wasm artifact to the runner: message of %d bytes, the runner reads %d", len(msg), handoffSize)
	}
	if err := unix.Sendmsg(int(h.host.Fd()), msg, unix.UnixRights(int(artifact.Fd())), nil, 0); err != nil {
		return fmt.Errorf("hand the wasm artifact to the runner: %w", err)
	}
	return nil
}

// Close closes both ends here; a started runner has its own copy of its end,
// and reads end of file if nothing was sent.
func (h *Handoff) Close() error {
	return errors.Join(h.host.Close(), h.container.Close())
}
