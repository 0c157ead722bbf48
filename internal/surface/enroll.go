package surface

import (
	"path"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
)

// Credential is one credential of a grant or a record that the
// organisation's rotation service may keep updated: where it lives in the
// vault and how long it lives. It names no value.
type Credential struct {
	// Environment is the vault environment of the secret that holds the
	// credential, and Path that secret's absolute vault path (folder and
	// name): where the service writes an update.
	Environment, Path string
	// What says what the credential is, in a phrase for the entry's
	// description ("client secret of its Infisical identity").
	What string
	// Life is how long the credential lives once minted, as its grant sets
	// it (a block's ttl, else the handoff's TTL), not what is left of it:
	// so the same grant is enrolled, or not, for as long as it stands.
	// Zero when handoff does not bound it (a pre-provisioned key read by
	// reference lives as long as its owner keeps it).
	Life time.Duration
}

// EnrollInput is what an Enrollable surface lists the credentials of:
// either the grant a plan mints (Grant, for the spec Spec), or the record a
// manifest holds (Record, in Manifest). Exactly one of Grant and Record is
// set.
type EnrollInput struct {
	Slug string
	// Folder is the handoff's vault folder and Environment its vault
	// environment (handoff.hcl's).
	Folder, Environment string
	// TTL is the handoff's TTL: from the start of the TTL the grant or
	// record lives in to its expiry.
	TTL time.Duration
	// Grant is the grant the plan mints (Change.After) and Spec the spec
	// it is minted for.
	Grant *plan.Grant
	Spec  *spec.Handoff
	// Record is the surface's record in Manifest.
	Record   Record
	Manifest *manifest.Manifest
}

// Enrollable is a surface whose credentials may live long enough for the
// organisation's rotation service to keep them updated: Credentials lists
// them, from a planned grant or from a record, the same for both once the
// grant is minted. The core enrolls, for every active handoff, those of
// its unkilled surfaces that live rotation.MinLife or more, or whose life
// handoff does not bound; it never asks by name. A surface whose vendor
// fixes a shorter life and that handoff mints again itself (GitHub
// installation tokens, STS sessions) does not implement it.
type Enrollable interface {
	Credentials(in EnrollInput) []Credential
}

// TokenCredential is the one credential of a surface that mints a token
// into the secret named secret of the handoff's folder, living the block's
// ttl (a duration; "" none) when that is shorter than the handoff's TTL,
// else the TTL, at most maxLife (0: no bound of the vendor's).
func TokenCredential(in EnrollInput, secret, ttl string, maxLife time.Duration, what string) []Credential {
	life := in.TTL
	if maxLife > 0 {
		life = min(life, maxLife)
	}
	if d, err := time.ParseDuration(ttl); err == nil && d > 0 && d < life {
		life = d
	}
	return []Credential{{Environment: in.Environment, Path: path.Join(in.Folder, secret), What: what, Life: life}}
}
