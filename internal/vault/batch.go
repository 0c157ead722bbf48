package vault

import (
	"context"
	"time"
)

// Batcher is a Vault that writes or deletes several secrets of one folder in
// one request, all or nothing: after the call returns, or after a crash in
// the middle of it, either every entry was written (deleted) or none was.
// Apply writes a handoff's secrets, its manifest and its journal's commit
// mark in one such batch (see package apply), so that a run stopped at any
// point leaves either the state before the batch or the state after it.
type Batcher interface {
	// UpsertSecrets creates the entries of folder that do not exist and
	// updates those that do, in one all-or-nothing request, setting each
	// one's comment (an empty comment leaves an existing one as it is). It
	// returns the secrets in the order given, with their new versions.
	// Keys must be distinct.
	UpsertSecrets(ctx context.Context, env, folder string, entries []Entry, comment string) ([]Secret, error)
	// DeleteSecrets deletes the keys of folder; those already gone are not
	// an error. The deletion of the keys that exist is all or nothing.
	DeleteSecrets(ctx context.Context, env, folder string, keys []string) error
}

// Op is a kind of vault request, as a server counts it against its rate
// limits.
type Op string

// The kinds of vault request.
const (
	// OpList is ListSecrets and ListSecretNames.
	OpList Op = "list"
	// OpGet is GetSecret.
	OpGet Op = "get"
	// OpCreate is CreateSecret (and the first request of UpsertSecret).
	OpCreate Op = "create"
	// OpUpdate is UpdateSecret.
	OpUpdate Op = "update"
	// OpDelete is DeleteSecret.
	OpDelete Op = "delete"
	// OpBatchUpsert is Batcher.UpsertSecrets.
	OpBatchUpsert Op = "batch upsert"
	// OpBatchDelete is Batcher.DeleteSecrets.
	OpBatchDelete Op = "batch delete"
	// OpFolder is EnsureFolder (per folder created).
	OpFolder Op = "folder"
)

// Ops are every kind of vault request.
var Ops = []Op{OpList, OpGet, OpCreate, OpUpdate, OpDelete, OpBatchUpsert, OpBatchDelete, OpFolder}

// Limit is how many requests of one kind a vault's server allows per
// window, counted apart from every other kind (Infisical Cloud counts each
// route on its own).
type Limit struct {
	Max    int
	Window time.Duration
}

// PerSpan is how many requests the limit allows over d, counting whole
// windows only (a fixed window that has not ended counts as spent).
func (l Limit) PerSpan(d time.Duration) int {
	if l.Max <= 0 || l.Window <= 0 {
		return 0
	}
	return int(d/l.Window) * l.Max
}

// Limited is a Vault that knows the rate limits of its server. The client
// underneath paces itself to them; the engine reads them to spread its own
// work (the fence's listings, the refreshes a run takes on).
type Limited interface {
	// RateLimit returns the limit on requests of kind op; ok is false when
	// the server is known to have none (a self-hosted Infisical).
	RateLimit(op Op) (l Limit, ok bool)
}

// RateLimit returns v's limit on op, when v is Limited and knows one.
func RateLimit(v Vault, op Op) (Limit, bool) {
	if lv, ok := v.(Limited); ok {
		if l, ok := lv.RateLimit(op); ok && l.Max > 0 && l.Window > 0 {
			return l, true
		}
	}
	return Limit{}, false
}

type urgentKey struct{}

// Urgent marks ctx's vault requests as urgent: the apply lease's, which
// must not wait behind the run's ordinary requests for a rate limit (the
// lease would lapse). A vault whose client paces its requests lets them
// ahead of the queue, within the server's limits.
func Urgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, urgentKey{}, true)
}

// IsUrgent reports whether ctx's vault requests are urgent (Urgent).
func IsUrgent(ctx context.Context) bool {
	b, _ := ctx.Value(urgentKey{}).(bool)
	return b
}
