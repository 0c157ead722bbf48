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
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/vault"
)

// Vault lists the secrets of a folder: vault.Vault's listings.
type Vault interface {
	ListSecrets(ctx context.Context, env, path string, recursive bool) ([]vault.Secret, error)
	ListSecretNames(ctx context.Context, env, path string, recursive bool) ([]vault.Secret, error)
}

// LiveReader is a surface that reads live state of its own (the
// identities named for handoffs, the App's installations): one bounded
// read per plan, never one per handoff.
type LiveReader interface {
	// Name is the surface's name, the key of Live.Surfaces.
	Name() string
	// ReadLive reads the surface's live state.
	ReadLive(ctx context.Context) (SurfaceLive, error)
}

// Sources are what a read asks: the vault (required), and the surfaces
// that read live state of their own. A surface left out is not read, and
// Live says so (it is absent from Live.Surfaces). A reader wrapped with
// WhenRecorded is read only when the vault shows a handoff that needs it.
type Sources struct {
	Vault   Vault
	Readers []LiveReader
}

// WhenRecorded wraps r so that Read reads it only when the vault's listing
// shows a handoff that needs its surface's live state: an active manifest
// that records the surface, or a journal (an apply that did not finish)
// that names it. That is a surface no spec uses any more whose
// credentials may still be live: the last spec that used it was deleted,
// and its revocation sweeps what the surface's deterministic names find.
// Such a reader is read once, after the listing, in the same bounded
// number of requests.
func WhenRecorded(r LiveReader) LiveReader { return whenRecorded{r} }

type whenRecorded struct{ LiveReader }

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
	// Rotation, when set, is where the rotation service's subscription
	// document lives (handoff.hcl's rotation block): it is read too, with
	// one request, into Live.Rotation. Nil: enrollment is off and nothing
	// is read.
	Rotation *rotation.Location
}

// Read reads the live state of every handoff under opts.Root: one recursive
// listing of the root, and each reader's own (the identities, the App's
// installations), concurrently; then the readers wrapped with WhenRecorded
// that the manifests and journals listed need. The number of requests does
// not depend on the number of handoffs.
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
		Surfaces:    map[string]SurfaceLive{},
		Limits:      vaultLimits(src.Vault),
	}

	var always, recorded []LiveReader
	for _, r := range src.Readers {
		if w, ok := r.(whenRecorded); ok {
			recorded = append(recorded, w.LiveReader)
		} else {
			always = append(always, r)
		}
	}
	var secrets []vault.Secret
	reads := make([]SurfaceLive, len(always))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		secrets, err = src.Vault.ListSecrets(gctx, opts.Environment, root, true)
		if err != nil && vault.IsFolderNotFound(err) {
			// The vault may answer the same for a missing folder and an
			// unknown environment: the vault's root folder, which every
			// environment has, tells them apart (one request, only here).
			if _, perr := src.Vault.ListSecretNames(gctx, opts.Environment, "/", false); !vault.IsNotFound(perr) {
				live.RootMissing = true
				secrets, err = nil, nil
			}
		}
		if err != nil {
			return fmt.Errorf("state: read the handoff folders under %s (environment %s): %w", root, opts.Environment, err)
		}
		return nil
	})
	if loc := opts.Rotation; loc != nil {
		g.Go(func() error {
			// A document that cannot be read is a finding of the plan, not
			// a failure of the read: the handoffs' own work goes on.
			getter, _ := src.Vault.(rotation.Getter)
			live.Rotation = rotation.Read(gctx, getter, *loc, opts.Environment, root)
			return nil
		})
	}
	readAll(gctx, g, always, reads)
	err = g.Wait()
	// Whatever happened, no value outlives this function but those of the
	// manifests and journals, which addSecrets reads.
	defer scrub(secrets)
	if err != nil {
		return nil, err
	}

	live.addSecrets(secrets)
	if more := live.needed(recorded); len(more) > 0 {
		moreReads := make([]SurfaceLive, len(more))
		g, gctx := errgroup.WithContext(ctx)
		readAll(gctx, g, more, moreReads)
		if err := g.Wait(); err != nil {
			return nil, err
		}
		always, reads = append(always, more...), append(reads, moreReads...)
	}
	for i, r := range always {
		live.Surfaces[r.Name()] = reads[i]
		live.Problems = append(live.Problems, reads[i].Problems()...)
	}
	sort.Strings(live.Problems)
	return live, nil
}

// readAll starts, in g, the read of each reader into reads.
func readAll(ctx context.Context, g *errgroup.Group, readers []LiveReader, reads []SurfaceLive) {
	for i, r := range readers {
		g.Go(func() error {
			sl, err := r.ReadLive(ctx)
			if err != nil {
				return fmt.Errorf("state: read the live state of %s: %w", r.Name(), err)
			}
			reads[i] = sl
			return nil
		})
	}
}

// needed are the readers among rs whose surface an active manifest records
// or a journal names (see WhenRecorded).
func (l *Live) needed(rs []LiveReader) []LiveReader {
	if len(rs) == 0 {
		return nil
	}
	names := map[string]bool{}
	for _, h := range l.Handoffs {
		if m := h.Manifest; m != nil && m.Status == manifest.Active {
			for name := range m.Surfaces {
				names[name] = true
			}
		}
		if j := h.Journal; j != nil {
			for _, name := range j.Surfaces() {
				names[name] = true
			}
			for _, f := range j.InFlight {
				names[f.Surface] = true
			}
		}
	}
	var out []LiveReader
	for _, r := range rs {
		if names[r.Name()] {
			out = append(out, r)
		}
	}
	return out
}

// scrub drops every value of a listing, so that no reference to one
// survives in memory the state owns.
func scrub(secrets []vault.Secret) {
	for i := range secrets {
		secrets[i].Value = ""
	}
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
func (l *Live) addSecrets(secrets []vault.Secret) {
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
