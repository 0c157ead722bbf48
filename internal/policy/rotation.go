package policy

import (
	"regexp"

	"github.com/raxx-app/handoff/internal/spec"
)

// rotationSecretRE is the alphabet of the document's secret name: an
// environment variable's, as the vault's secrets are named.
var rotationSecretRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// rotation checks handoff.hcl's rotation block: an absolute folder outside
// the handoff root (apply owns everything under the root, and lists it as
// handoffs' folders), a secret name, an environment slug.
func (c *checker) rotation(cfg *spec.Config) {
	rc := cfg.Rotation
	if rc == nil {
		return
	}
	if p := rc.Path; p.Valid() {
		if sum, det := VaultPathProblem(p.Value, false); sum != "" {
			c.errorf(p.Range, sum, "In rotation.path: %s", det)
		} else if root := HandoffRoot(cfg); root != "" && Under(p.Value, root) {
			c.errorf(p.Range, "Rotation document inside the handoff root",
				"rotation.path is %q, inside handoff_root %q: apply reads every folder there as a handoff's and a handoff can read its own folder. Put the document in a folder of its own outside the root, such as path = \"/Platform/rotation/subscriptions\".",
				p.Value, root)
		}
	}
	if s := rc.Secret; s.Valid() && !rotationSecretRE.MatchString(s.Value) {
		c.errorf(s.Range, "Invalid rotation secret name",
			"rotation.secret is %q; a secret name is 1 to 128 letters, digits and '_', not starting with a digit, such as secret = \"HANDOFF_SUBSCRIPTIONS\".", s.Value)
	}
	if e := rc.Environment; e.Valid() && !IsEnvironment(e.Value) {
		c.errorf(e.Range, "Invalid rotation environment",
			"rotation.environment is %q; write an environment slug (1 to 64 letters, digits, '_' or '-'), such as environment = \"prod\", or leave it out to use the vault's environment.",
			e.Value)
	}
}
