package github

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables that carry the App's private key. Only the
// environment does: never a file in the GitOps repository.
const (
	EnvPrivateKey     = "GITHUB_APP_PRIVATE_KEY"
	EnvPrivateKeyFile = "GITHUB_APP_PRIVATE_KEY_FILE"
)

// LoadPrivateKey returns the App's PEM private key from the environment read
// through env (os.Getenv when nil): GITHUB_APP_PRIVATE_KEY holds the PEM
// itself, GITHUB_APP_PRIVATE_KEY_FILE the path of a file holding it. Setting
// both is an error, as is setting neither.
//
// The PEM may come with its newlines escaped as "\n" or base64-encoded as a
// whole, the two ways CI systems usually mangle a multi-line secret; both are
// undone. The key is not parsed here (New does that); its errors, like every
// error of this package, never contain key material.
func LoadPrivateKey(env func(string) string) ([]byte, error) {
	if env == nil {
		env = os.Getenv
	}
	direct, file := env(EnvPrivateKey), env(EnvPrivateKeyFile)
	switch {
	case direct != "" && file != "":
		return nil, fmt.Errorf("github: both %s and %s are set: keep only one", EnvPrivateKey, EnvPrivateKeyFile)
	case direct != "":
		pemBytes, ok := normalizePEM([]byte(direct))
		if !ok {
			hint := ""
			if looksLikePath(direct) {
				hint = fmt.Sprintf(" (it looks like a file path: set %s to a path instead)", EnvPrivateKeyFile)
			}
			return nil, fmt.Errorf("github: %s does not hold a PEM private key%s", EnvPrivateKey, hint)
		}
		return pemBytes, nil
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			// The error names the path and the reason, never content.
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("github: %s: cannot read %s: %v", EnvPrivateKeyFile, pe.Path, pe.Err)
			}
			return nil, fmt.Errorf("github: %s: cannot read the file", EnvPrivateKeyFile)
		}
		pemBytes, ok := normalizePEM(raw)
		if !ok {
			return nil, fmt.Errorf("github: %s: %s does not hold a PEM private key", EnvPrivateKeyFile, file)
		}
		return pemBytes, nil
	}
	return nil, fmt.Errorf("github: the App's private key is missing: set %s (the PEM) or %s (its path)", EnvPrivateKey, EnvPrivateKeyFile)
}

// normalizePEM undoes escaped newlines and whole-value base64 and reports
// whether the result looks like PEM.
func normalizePEM(b []byte) ([]byte, bool) {
	b = bytes.TrimSpace(b)
	if bytes.Contains(b, []byte("-----BEGIN")) {
		if !bytes.Contains(b, []byte("\n")) && bytes.Contains(b, []byte(`\n`)) {
			b = bytes.ReplaceAll(b, []byte(`\n`), []byte("\n"))
		}
		return b, true
	}
	compact := strings.Join(strings.Fields(string(b)), "")
	if dec, err := base64.StdEncoding.DecodeString(compact); err == nil && bytes.Contains(dec, []byte("-----BEGIN")) {
		return bytes.TrimSpace(dec), true
	}
	return nil, false
}

func looksLikePath(s string) bool {
	s = strings.TrimSpace(s)
	return !strings.ContainsAny(s, "\n ") && (strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") ||
		strings.HasPrefix(s, "~") || strings.HasSuffix(s, ".pem"))
}

// parsePrivateKey reads an RSA private key in PKCS #1 ("RSA PRIVATE KEY", what
// GitHub hands out) or PKCS #8 ("PRIVATE KEY") PEM. Its errors describe the
// problem without quoting any of the input.
func parsePrivateKey(raw []byte) (*rsa.PrivateKey, error) {
	pemBytes, ok := normalizePEM(raw)
	if !ok {
		return nil, errors.New("github: the App private key is not PEM (want -----BEGIN RSA PRIVATE KEY-----, as GitHub's download)")
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("github: the App private key is not valid PEM (damaged armour or base64)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if len(block.Headers) > 0 {
			return nil, errors.New("github: the App private key is encrypted: decrypt it first (GitHub's download is not encrypted)")
		}
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("github: the App private key is not a valid PKCS #1 RSA key")
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("github: the App private key is not a valid PKCS #8 key")
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("github: the App private key is a %T, GitHub Apps sign with RSA", key)
		}
		return rsaKey, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("github: the App private key is encrypted: decrypt it first (GitHub's download is not encrypted)")
	default:
		// The block type is armour, not key material.
		return nil, fmt.Errorf("github: the App private key PEM holds a %q block, want RSA PRIVATE KEY", block.Type)
	}
}
