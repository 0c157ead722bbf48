package main

import "strings"

// bare returns err's message without the prefixes that the packages under
// a command put on their errors ("apply: ", "revoke SLUG: ") and that the
// command's own prefix says already: "handoff revoke SLUG: nothing found: …"
// rather than "handoff revoke: apply: revoke SLUG: nothing found: …". The
// prefixes are removed from the start only, in any order, each as often as
// it comes.
func bare(err error, prefixes ...string) string {
	msg := err.Error()
	for trimmed := true; trimmed; {
		trimmed = false
		for _, p := range prefixes {
			if p != "" && strings.HasPrefix(msg, p) {
				msg, trimmed = msg[len(p):], true
			}
		}
	}
	return msg
}
