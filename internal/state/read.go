package state

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

// Vault lists the secrets of a folder. *infisical.Client satisfies it.
// ListSecrets must return values (the manifests are read from them) in one
// request, with recursive covering every folder below; ListSecretNames is
// the same without values, used only to tell a missing handoff root from an
// unknown environment.
type Vault interface {
	ListSecrets(ctx context.Context, env, path string, recursive bool) ([]infisical.Secret, error)
	ListSecretNames(ctx context.Context, env, path string, recursive bool) ([]infisical.Secret, error)
}

// Identities lists the organization's machine identities.
// *infisical.Client satisfies it.
type Identities interface {
	ListIdentities(ctx context.Context) ([]infisical.Identity, error)
}

// Installations lists the GitHub App's installations. *github.Client
// satisfies it.
type Installations interface {
	Installations(ctx context.Context) ([]github.Installation, error)
}

// Sources are the services a read asks. Vault is required; a nil Identities
// or Installations is not read, and Live says so (IdentitiesKnown,
// InstallationsKnown) so that nothing is concluded from its absence.
type Sources struct {
	Vault         Vault
	Identities    Identities
	Installations Installations
}

// Options says what to read.
type Options struct {
	// Environment is the vault environment of the handoff folders
	// (handoff.hcl's infisical.environment).
	Environment string
	// Root is the handoff root (infisical.handoff_root), an absolute folder
	// path.
	Root string
	// Now stamps ReadAt; time.Now when nil.
	Now func() time.Time
}

// Read reads the live state of every handoff under opts.Root: one recursive
// listing of the root, one listing of the identities and one of the App's
// installations, concurrently. The number of requests does not depend on
// the number of handoffs.
//
// A root that does not exist yet (a fresh project) reads as an empty state.
// Any other failure is an error wrapping the provider's *httpx.APIError;
// a corrupt manifest is not a failure of the read but a ManifestError on
// its handoff.
func Read(ctx context.Context, src Sources, opts Options) (*Live, error) {
	if src.Vault == nil {
		return nil, errors.New("state: no vault to read")
	}
	root, err := cleanRoot(opts.Root)
	if err != nil {
		return nil, err
	}
	if opts.Environment == "" {
		return nil, errors.New("state: no vault environment")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	live := &Live{
		ReadAt:      now().UTC(),
		Environment: opts.Environment,
		Root:        root,
		Handoffs:    map[string]*Handoff{},
		Identities:  map[string]Identity{},
	}

	var (
		secrets []infisical.Secret
		idents  []infisical.Identity
		insts   []github.Installation
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		secrets, err = src.Vault.ListSecrets(gctx, opts.Environment, root, true)
		if err != nil && rootMissing(err) {
			// Infisical answers the same 404 for a missing folder and an
			// unknown environment: the vault's root folder, which every
			// environment has, tells them apart (one request, only here).
			if _, perr := src.Vault.ListSecretNames(gctx, opts.Environment, "/", false); !infisical.IsNotFound(perr) {
				live.RootMissing = true
				secrets, err = nil, nil
			}
		}
		if err != nil {
			return fmt.Errorf("state: read the handoff folders under %s (environment %s): %w", root, opts.Environment, err)
		}
		return nil
	})
	if src.Identities != nil {
		g.Go(func() error {
			var err error
			if idents, err = src.Identities.ListIdentities(gctx); err != nil {
				return fmt.Errorf("state: list the Infisical identities: %w", err)
			}
			return nil
		})
	}
	if src.Installations != nil {
		g.Go(func() error {
			var err error
			if insts, err = src.Installations.Installations(gctx); err != nil {
				return fmt.Errorf("state: list the GitHub App's installations: %w", err)
			}
			return nil
		})
	}
	err = g.Wait()
	// Whatever happened, no value outlives this function but those of the
	// manifests and journals, which addSecrets reads.
	defer scrub(secrets)
	if err != nil {
		return nil, err
	}

	live.addSecrets(secrets)
	if src.Identities != nil {
		live.IdentitiesKnown = true
		live.addIdentities(idents)
	}
	if src.Installations != nil {
		live.InstallationsKnown = true
		live.Installations = insts
		sort.SliceStable(live.Installations, func(i, j int) bool {
			a, b := strings.ToLower(live.Installations[i].Account), strings.ToLower(live.Installations[j].Account)
			if a != b {
				return a < b
			}
			return live.Installations[i].ID < live.Installations[j].ID
		})
	}
	sort.Strings(live.Problems)
	return live, nil
}

// scrub drops every value of a listing, so that no reference to one
// survives in memory the state owns.
func scrub(secrets []infisical.Secret) {
	for i := range secrets {
		secrets[i].Value = ""
	}
}

// rootMissing reports whether err is Infisical's 404 for a folder that does
// not exist (as opposed to an unknown project or environment).
func rootMissing(err error) bool {
	ae, ok := infisical.APIError(err)
	if !ok || !infisical.IsNotFound(err) {
		return false
	}
	// "Folder with path '/x' in environment 'dev' was not found"; an unknown
	// project is a real error.
	return strings.Contains(strings.ToLower(ae.Message), "folder")
}

func cleanRoot(root string) (string, error) {
	if !strings.HasPrefix(root, "/") {
		return "", fmt.Errorf("state: handoff root %q is not an absolute vault path", root)
	}
	c := path.Clean(root)
	if c == "/" {
		return "", errors.New("state: the handoff root cannot be the vault's root folder")
	}
	return c, nil
}

// addSecrets classifies every listed secret by folder and reads the
// manifests and journals. It reads no other value.
func (l *Live) addSecrets(secrets []infisical.Secret) {
	type pending struct {
		h   *Handoff
		raw []byte
	}
	var manifests []pending
	defer func() {
		// Schema validation dominates the cost of a read: spread it.
		parallel(len(manifests), func(i int) {
			manifests[i].h.readManifest(manifests[i].raw, l.Environment)
		})
	}()
	prefix := l.Root + "/"
	for i := range secrets {
		s := &secrets[i]
		folder := path.Clean(s.Path)
		rel, ok := strings.CutPrefix(folder, prefix)
		switch {
		case folder == l.Root && s.Key == LockSecretName:
			// apply's lease: neither a handoff nor a problem, and not part
			// of the fingerprint (a plan made while no apply runs is still
			// the plan of the state that apply reads under its lock).
			l.Locked = true
			s.Value = ""
			continue
		case folder == l.Root:
			l.Problems = append(l.Problems, fmt.Sprintf("secret %s lies directly in the handoff root, outside any handoff's folder", path.Join(folder, s.Key)))
			continue
		case !ok:
			l.Problems = append(l.Problems, fmt.Sprintf("secret %s was listed under %s but lies outside it", path.Join(folder, s.Key), l.Root))
			continue
		case strings.Contains(rel, "/"):
			l.Problems = append(l.Problems, fmt.Sprintf("secret %s lies in a sub-folder of handoff %s; handoff folders are flat", path.Join(folder, s.Key), strings.SplitN(rel, "/", 2)[0]))
			continue
		}
		h := l.Handoffs[rel]
		if h == nil {
			h = &Handoff{Slug: rel, Folder: folder, Secrets: map[string]SecretMeta{}}
			l.Handoffs[rel] = h
		}
		h.Secrets[s.Key] = SecretMeta{Version: s.Version, ID: s.ID, UpdatedAt: s.UpdatedAt}
		switch s.Key {
		case manifest.SecretName:
			manifests = append(manifests, pending{h, []byte(s.Value)})
		case JournalSecretName:
			h.JournalRaw = []byte(s.Value) // a copy, never nil
			h.Journal, h.JournalErr = ParseJournal(h.JournalRaw)
			if h.Journal != nil && h.Journal.Slug != h.Slug {
				h.Journal, h.JournalErr = nil, fmt.Errorf("journal: names slug %q but lies in folder %s", h.Journal.Slug, h.Folder)
			}
		}
		s.Value = ""
	}
}

func (h *Handoff) readManifest(raw []byte, env string) {
	h.ManifestDigest = digest(raw)
	m, err := manifest.Parse(raw)
	if err == nil && m.Slug != h.Slug {
		err = fmt.Errorf("manifest names slug %q but lies in folder %s", m.Slug, h.Folder)
	}
	if err != nil {
		h.Manifest, h.ManifestErr = nil, &ManifestError{Path: h.ManifestPath(), Environment: env, Err: err}
		return
	}
	h.Manifest, h.ManifestErr = m, nil
}

// addIdentities keeps the identities handoff created (by name prefix).
func (l *Live) addIdentities(ids []infisical.Identity) {
	for _, id := range ids {
		if !strings.HasPrefix(id.Name, IdentityPrefix) {
			continue
		}
		if prev, dup := l.Identities[id.Name]; dup {
			l.Problems = append(l.Problems, fmt.Sprintf("two Infisical identities are named %s (ids %s and %s); handoff names each identity once", id.Name, prev.ID, id.ID))
			if prev.ID < id.ID { // keep one deterministically
				continue
			}
		}
		l.Identities[id.Name] = Identity{ID: id.ID, Name: id.Name}
	}
}

// parallel calls fn(i) for every i in [0, n) on at most GOMAXPROCS
// goroutines and returns when all are done.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
