package spec

import "github.com/hashicorp/hcl/v2"

// RotationConfig is the rotation block of handoff.hcl: where the
// organisation's rotation service reads its subscription document, which
// apply keeps (package rotation). Absent, enrollment is off: nothing is
// read or written.
type RotationConfig struct {
	// DefRange is the block header.
	DefRange hcl.Range
	// Path is the vault folder of the document and Secret the name of the
	// secret holding it.
	Path   String
	Secret String
	// Environment is the vault environment of the folder; when not
	// written, it is the vault block's environment (Valid false here).
	Environment String
}

// rotationSyntax is the rotation block: a core block of handoff.hcl, as
// the policy block is, since it belongs to no surface.
var rotationSyntax = &BlockSyntax{
	Type: "rotation",
	Name: "A rotation block in handoff.hcl",
	Attrs: []AttrSyntax{
		{Name: "path", Required: true, Example: `path = "/Platform/rotation/subscriptions"`},
		{Name: "secret", Required: true, Example: `secret = "HANDOFF_SUBSCRIPTIONS"`},
		{Name: "environment", Example: `environment = "prod"`},
	},
}

func decodeRotation(b *Body) *RotationConfig {
	return &RotationConfig{
		DefRange:    b.DefRange(),
		Path:        b.String("path", ""),
		Secret:      b.String("secret", ""),
		Environment: b.String("environment", ""),
	}
}
