package bridge

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// launch starts a container process (init at create/run, or an exec'd one)
// and wires it to the caller the way runc does.
type launch struct {
	process       *libcontainer.Process
	terminal      bool
	detach        bool
	consoleSocket string
	pidfdSocket   string // if set, receives a pidfd of the process
	pidFile       string
	start         func(*libcontainer.Process) error
	// exec, if set, lets a started init run its program: only once the
	// caller's stdio is wired, so that nothing it writes meets a pty that
	// is not set up yet.
	exec    func() error
	started func() // if set, called once the process runs and its pid is written
	// signals, in the foreground, is the subscription the caller started
	// as its first step.
	signals *signalSubscription
}

// signalSubscription subscribes to every signal in the background. Notify
// takes a round trip to the runtime's signal thread for each of the ~65
// signals, 2 to 7 ms on a small VM, which a foreground command spends while
// it sets the process up rather than before it. The signals that would end
// or stop wrunc come first, and only those are waited for before the
// process starts; until the rest are subscribed, a few milliseconds later,
// the Go runtime catches and ignores them.
type signalSubscription struct {
	ch     chan os.Signal
	ending chan struct{} // closed once endingSignals are subscribed
}

// endingSignals are those whose default in a Go program is to exit, to
// crash or to stop (os/signal's "Default behavior of signals").
func endingSignals() []os.Signal {
	return []os.Signal{
		unix.SIGHUP, unix.SIGINT, unix.SIGTERM,
		unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGSTKFLT, unix.SIGSYS,
		unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
	}
}

// foregroundSignals starts the subscription of a command that stays in the
// foreground; a detached one relays nothing and subscribes to nothing.
func foregroundSignals(detach bool) *signalSubscription {
	if detach {
		return nil
	}
	s := &signalSubscription{ch: make(chan os.Signal, 128), ending: make(chan struct{})}
	go func() {
		// Never unsubscribed: once the process is gone wrunc only cleans
		// up and exits, and signal.Stop costs the same round trips, while
		// a signal meant for a gone process has nothing left to interrupt.
		signal.Notify(s.ch, endingSignals()...)
		close(s.ending)
		signal.Notify(s.ch)
	}()
	return s
}

// wait returns the channel once no signal can end or stop wrunc.
func (s *signalSubscription) wait() chan os.Signal {
	<-s.ending
	return s.ch
}

// run starts the process; in the foreground it waits for it and returns its
// exit status. On error the process is not left running.
func (l launch) run() (int, error) {
	if err := checkTerminal(l.terminal, l.detach, l.consoleSocket); err != nil {
		return -1, err
	}
	l.process.LogLevel = fmt.Sprint(int(logrus.GetLevel()))
	io, err := setupStdio(l.process, l.terminal, l.detach, l.consoleSocket)
	if err != nil {
		return -1, err
	}
	defer io.close()
	if l.pidfdSocket != "" {
		if err := io.sendPidfd(l.process, l.pidfdSocket); err != nil {
			return -1, err
		}
	}

	var signals chan os.Signal
	if !l.detach {
		// Before the process exists, so that no signal can leave it
		// running without wrunc.
		signals = l.signals.wait()
	}
	if err := l.start(l.process); err != nil {
		return -1, err
	}
	if err := io.started(); err != nil {
		killProcess(l.process)
		return -1, err
	}
	if l.exec != nil {
		if err := l.exec(); err != nil {
			killProcess(l.process)
			return -1, err
		}
	}
	if l.pidFile != "" {
		pid, err := l.process.Pid()
		if err == nil {
			err = WritePidFile(l.pidFile, pid)
		}
		if err != nil {
			killProcess(l.process)
			return -1, err
		}
	}
	if l.started != nil {
		l.started()
	}
	if l.detach {
		return 0, nil
	}
	return forward(l.process, signals, io), nil
}

func killProcess(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

// forward relays our signals to the process until it exits, and returns its
// exit status.
func forward(p *libcontainer.Process, signals chan os.Signal, io *stdio) int {
	done := make(chan int, 1)
	go func() {
		st, err := p.Wait()
		if st == nil {
			logrus.Warnf("wait: %v", err)
			done <- 255
			return
		}
		done <- exitStatus(st.Sys().(syscall.WaitStatus))
	}()
	for {
		select {
		case status := <-done:
			return status
		case s := <-signals:
			switch s {
			case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			case unix.SIGWINCH:
				io.resize()
			default:
				if err := p.Signal(s); err != nil {
					logrus.Debugf("forward %v: %v", s, err)
				}
			}
		}
	}
}

// exitStatus reports a wait status as a shell does: 128+n when killed by n.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
