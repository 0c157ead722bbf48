//go:build !unix

package main

import "os/exec"

// killGroup does nothing here: a cancelled context kills the spawner only.
func killGroup(*exec.Cmd) {}
