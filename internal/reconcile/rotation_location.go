package reconcile

import (
	"path"

	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/spec"
)

// RotationLocation is where handoff.hcl's rotation block puts the rotation
// service's subscription document (its environment defaulting to the
// vault's); nil when the block is absent or incomplete: enrollment is off,
// and nothing is read or written.
func RotationLocation(cfg *spec.Config) *rotation.Location {
	if cfg == nil || cfg.Rotation == nil {
		return nil
	}
	rc := cfg.Rotation
	if !rc.Path.Valid() || !rc.Secret.Valid() {
		return nil
	}
	loc := &rotation.Location{Folder: path.Clean(rc.Path.Value), Secret: rc.Secret.Value}
	switch {
	case rc.Environment.Valid() && rc.Environment.Value != "":
		loc.Environment = rc.Environment.Value
	case cfg.Vault != nil && cfg.Vault.Environment().Valid():
		loc.Environment = cfg.Vault.Environment().Value
	default:
		return nil
	}
	return loc
}
