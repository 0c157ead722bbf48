//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

func execChildSignals(string) int { return 96 }
