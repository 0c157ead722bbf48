//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// killGroup makes the spawner lead a process group that a cancelled
// context kills whole: the spawner and the child it runs.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
