// Package contracts holds the vendors' API descriptions the local servers
// follow: copies of shared/contracts (GitHub's and Infisical's OpenAPI
// documents, cut to the operations handoff uses), embedded in the binary.
//
// It owns the bytes only. contracttest validates traffic against them in
// tests; the servers read facts from them at run time (Infisical's
// per-operation rate-limit classes, for instance), which is why the bytes
// live in a package that does not import "testing".
package contracts

import (
	"embed"
	"fmt"
)

//go:embed *.json
var files embed.FS

// Infisical and GitHub are the file names of the embedded documents.
const (
	GitHub    = "github.openapi.json"
	Infisical = "infisical.openapi.json"
)

// Read returns the embedded document with the given file name.
func Read(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	return b, nil
}
