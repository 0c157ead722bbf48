//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "os"

// forwardedSignals are the signals `handoff exec` passes on to its
// command: on this system, only an interrupt.
var forwardedSignals = []os.Signal{os.Interrupt}

// passOn reports whether exec passes signal s on to its command.
func passOn(os.Signal) bool { return true }

// exitStatus is the command's exit code.
func exitStatus(ps *os.ProcessState) int { return ps.ExitCode() }
