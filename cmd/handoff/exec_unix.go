//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals `handoff exec` passes on to its
// command: those that ask a process to stop.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// passOn reports whether exec passes signal s on to its command.
//
// The command runs in exec's process group, as with aws-vault exec and
// infisical run, so that it stays in the terminal's foreground job: it can
// read the terminal, and Ctrl-Z stops both. A terminal sends the signals
// of its keys (Ctrl-C's SIGINT, Ctrl-\'s SIGQUIT) to the whole foreground
// group: the command already has them, and passing them on again would
// turn one Ctrl-C into two (many programs quit at once on a second one).
// So those two are not passed on while exec is in its terminal's
// foreground group; a SIGINT sent to exec alone (kill -INT) from another
// terminal in that case is lost, the price of telling the two apart
// without the sender's identity, which Go does not give. Without a
// terminal, as when an orchestrator spawns exec, every signal is passed on.
func passOn(s os.Signal) bool {
	return forwardSignal(s, inForeground())
}

func forwardSignal(s os.Signal, foreground bool) bool {
	switch s {
	case syscall.SIGINT, syscall.SIGQUIT:
		return !foreground
	}
	return true
}

// inForeground reports whether exec's process group is the foreground
// group of its controlling terminal (false without one).
func inForeground() bool {
	f, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer f.Close()
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// exitStatus is the command's status as a shell reports it: its exit code,
// or 128+N when signal N killed it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
