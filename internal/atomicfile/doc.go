// Package atomicfile replaces a file's contents all at once: a reader sees
// the old file or the new one, never half of it, and a crash leaves no
// temporary file behind and no empty file in place of the old one.
//
// It is the one writer of whole files in handoff: plan files (package
// planfile), the files `handoff fmt` rewrites, and the credentials and
// state `handoff dev` keeps.
package atomicfile
