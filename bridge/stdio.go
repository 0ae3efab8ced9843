package bridge

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
)

// stdio owns whatever connects a container process to its caller: the
// console socket handed to the engine, or the pty copied to our own terminal
// when `run` is in the foreground.
type stdio struct {
	afterStart []io.Closer   // ours only until the process has its copy
	master     chan *os.File // foreground tty: the pty master, once received
	masterErr  chan error
	pty        console.Console
	host       console.Console
	copying    sync.WaitGroup
}

func checkTerminal(terminal, detach bool, socket string) error {
	if detach && terminal && socket == "" {
		return errors.New("cannot allocate tty if wrunc will detach without setting console socket")
	}
	if (!detach || !terminal) && socket != "" {
		return errors.New("cannot use console socket if wrunc will not detach or allocate tty")
	}
	return nil
}

// setupStdio prepares p's streams. Without a terminal the process inherits
// ours, as runc does for detached containers, so engines' pipes reach it
// directly.
func setupStdio(p *libcontainer.Process, terminal, detach bool, socket string) (*stdio, error) {
	s := &stdio{}
	switch {
	case !terminal:
		p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
	case detach:
		f, err := dialSocket("console socket", socket)
		if err != nil {
			return nil, err
		}
		p.ConsoleSocket = f
		s.afterStart = append(s.afterStart, f)
	default:
		// Raw before the process can write: output that our terminal got
		// in cooked mode would have its newlines translated twice.
		for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
			if host, err := console.ConsoleFromFile(f); err == nil {
				if err := host.SetRaw(); err != nil {
					return nil, fmt.Errorf("set terminal raw: %w", err)
				}
				s.host = host
				break
			}
		}
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			s.close()
			return nil, fmt.Errorf("console socket pair: %w", err)
		}
		p.ConsoleSocket = child
		s.afterStart = append(s.afterStart, child)
		s.master = make(chan *os.File, 1)
		s.masterErr = make(chan error, 1)
		go func() {
			defer parent.Close()
			m, err := utils.RecvFile(parent)
			if err == nil {
				// At once: an exec'd process may write before started().
				// Our own terminal turns \n into \r\n already; the
				// container's pty doing it too would print \r\r\n.
				err = console.ClearONLCR(m.Fd())
			}
			if err != nil {
				s.masterErr <- fmt.Errorf("receive pty master: %w", err)
				return
			}
			s.master <- m
		}()
	}
	return s, nil
}

// sendPidfd has the process send a pidfd of itself, once it runs, to the
// unix socket at path (runc's --pidfd-socket, for engines that signal and
// wait by pidfd): libcontainer's init opens it and sends it with
// SCM_RIGHTS before it runs the program, a wasm container's runner as much
// as any other.
func (s *stdio) sendPidfd(p *libcontainer.Process, path string) error {
	f, err := dialSocket("pidfd socket", path)
	if err != nil {
		return err
	}
	p.PidfdSocket = f
	s.afterStart = append(s.afterStart, f)
	return nil
}

// dialSocket connects to the unix socket at path, for a file the process
// sends on it.
func dialSocket(what, path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return f, nil
}

// started releases our copies of the fds the process now holds and, for a
// foreground terminal, attaches the pty to our own terminal.
func (s *stdio) started() error {
	for _, c := range s.afterStart {
		c.Close()
	}
	s.afterStart = nil
	if s.master == nil {
		return nil
	}
	var m *os.File
	select {
	case m = <-s.master:
	case err := <-s.masterErr:
		return err
	}
	pty, err := console.ConsoleFromFile(m)
	if err != nil {
		return fmt.Errorf("pty master: %w", err)
	}
	s.pty = pty
	s.resize()
	go func() { _, _ = io.Copy(pty, os.Stdin) }()
	s.copying.Add(1)
	go func() {
		defer s.copying.Done()
		_, _ = io.Copy(os.Stdout, pty)
	}()
	return nil
}

func (s *stdio) resize() {
	if s.pty != nil && s.host != nil {
		_ = s.pty.ResizeFrom(s.host)
	}
}

// close waits for the pty's output to drain and restores our terminal.
func (s *stdio) close() {
	for _, c := range s.afterStart {
		c.Close()
	}
	if s.pty != nil {
		s.copying.Wait()
		s.pty.Close()
	}
	if s.host != nil {
		_ = s.host.Reset()
	}
}
