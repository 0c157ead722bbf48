// Package devserver runs the local API servers of every vendor together
// (GitHub, Infisical, Cloudflare, AWS STS/IAM/SSM, Heroku):
// one clock, one set of counters and faults (devkit), fixtures from a JSON
// file or the built-in defaults, state kept in a file so a restart loses
// nothing, and the provisioner's dev credentials written to 0600 files.
//
// It is the product's embedded default (`handoff dev`), so every command runs
// with no account, and the test bed of every package that talks to a vendor
// (NewTest). The emulators themselves are githubsrv, infisicalsrv,
// cloudflaresrv, awssrv and herokusrv.
package devserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/atomicfile"
	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
)

// Fixtures is the content of a fixture file: one section per emulator. A
// missing section takes that emulator's defaults.
type Fixtures struct {
	GitHub     *githubsrv.Fixture     `json:"github,omitempty"`
	Infisical  *infisicalsrv.Fixture  `json:"infisical,omitempty"`
	Cloudflare *cloudflaresrv.Fixture `json:"cloudflare,omitempty"`
	AWS        *awssrv.Fixture        `json:"aws,omitempty"`
	Heroku     *herokusrv.Fixture     `json:"heroku,omitempty"`
}

// LoadFixtures reads a fixture file; unknown fields are errors so a typo does
// not silently fall back to a default.
func LoadFixtures(path string) (Fixtures, error) {
	var fx Fixtures
	b, err := os.ReadFile(path)
	if err != nil {
		return fx, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		return fx, fmt.Errorf("fixtures %s: %w", path, err)
	}
	return fx, nil
}

// DevRepository is the repository of the default fixtures whose pull
// request (#42) the dev flow comments on.
const DevRepository = "raxx-app/TradeMasterAPI"

// Options configures Start.
type Options struct {
	// GitHubAddr, InfisicalAddr, CloudflareAddr, AWSAddr and HerokuAddr
	// are loopback listen addresses (default 127.0.0.1:0, a free port
	// each).
	GitHubAddr, InfisicalAddr, CloudflareAddr, AWSAddr, HerokuAddr string
	// Fixtures replaces the defaults section by section.
	Fixtures Fixtures
	// StateFile, when set, is loaded at start if it exists and written by
	// SaveState and Close.
	StateFile string
	// Kit shares a clock, counters and faults; nil makes a new one.
	Kit *devkit.Kit
}

// Servers is the running set of emulators.
type Servers struct {
	Kit        *devkit.Kit
	GitHub     *githubsrv.Server
	Infisical  *infisicalsrv.Server
	Cloudflare *cloudflaresrv.Server
	AWS        *awssrv.Server
	Heroku     *herokusrv.Server
	// The base URLs (no trailing slash); Cloudflare's API is under
	// CloudflareURL + cloudflaresrv.BasePath.
	GitHubURL, InfisicalURL, CloudflareURL, AWSURL, HerokuURL string

	stateFile string
	noLimits  bool
	servers   []*http.Server
	closeOnce sync.Once
}

// New builds both emulators without listening (tests serve them with
// httptest; Start listens on loopback).
func New(opts Options) (*Servers, error) {
	kit := opts.Kit
	if kit == nil {
		kit = devkit.NewKit()
	}
	ghfx := githubsrv.DefaultFixture()
	if opts.Fixtures.GitHub != nil {
		ghfx = *opts.Fixtures.GitHub
	}
	infx := infisicalsrv.DefaultFixture()
	if opts.Fixtures.Infisical != nil {
		infx = *opts.Fixtures.Infisical
	}
	gh, err := githubsrv.New(kit, ghfx)
	if err != nil {
		return nil, fmt.Errorf("github server: %w", err)
	}
	inf, err := infisicalsrv.New(kit, infx)
	if err != nil {
		return nil, fmt.Errorf("infisical server: %w", err)
	}
	cf, err := cloudflaresrv.New(kit, orFixture(opts.Fixtures.Cloudflare, cloudflaresrv.DefaultFixture))
	if err != nil {
		return nil, fmt.Errorf("cloudflare server: %w", err)
	}
	aw, err := awssrv.New(kit, orFixture(opts.Fixtures.AWS, awssrv.DefaultFixture))
	if err != nil {
		return nil, fmt.Errorf("aws server: %w", err)
	}
	hk, err := herokusrv.New(kit, orFixture(opts.Fixtures.Heroku, herokusrv.DefaultFixture))
	if err != nil {
		return nil, fmt.Errorf("heroku server: %w", err)
	}
	s := &Servers{Kit: kit, GitHub: gh, Infisical: inf, Cloudflare: cf, AWS: aw, Heroku: hk, stateFile: opts.StateFile}
	if opts.StateFile != "" {
		if err := s.loadState(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start builds both emulators and serves them on loopback.
func Start(opts Options) (*Servers, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	ghURL, err := s.listen(orDefault(opts.GitHubAddr), s.GitHub)
	if err != nil {
		return nil, fmt.Errorf("github server: %w", err)
	}
	infURL, err := s.listen(orDefault(opts.InfisicalAddr), s.Infisical)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("infisical server: %w", err)
	}
	s.GitHubURL, s.InfisicalURL = ghURL, infURL
	for _, x := range []struct {
		name, addr string
		h          http.Handler
		url        *string
	}{
		{"cloudflare", opts.CloudflareAddr, s.Cloudflare, &s.CloudflareURL},
		{"aws", opts.AWSAddr, s.AWS, &s.AWSURL},
		{"heroku", opts.HerokuAddr, s.Heroku, &s.HerokuURL},
	} {
		u, err := s.listen(orDefault(x.addr), x.h)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s server: %w", x.name, err)
		}
		*x.url = u
	}
	return s, nil
}

// orFixture is *fx, or the emulator's defaults when the fixtures file has
// no section for it.
func orFixture[F any](fx *F, def func() F) F {
	if fx != nil {
		return *fx
	}
	return def()
}

func orDefault(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

// listen refuses any address that is not loopback: the dev servers hand out
// credentials to whoever asks and must never face a network.
func (s *Servers) listen(addr string, h http.Handler) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("refusing to listen on %s: the dev servers serve loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

type stateFile struct {
	Version     int             `json:"version"`
	ClockOffset string          `json:"clock_offset"`
	GitHub      json.RawMessage `json:"github"`
	Infisical   json.RawMessage `json:"infisical"`
	// The emulators added later: absent in an older state file.
	Cloudflare json.RawMessage `json:"cloudflare,omitempty"`
	AWS        json.RawMessage `json:"aws,omitempty"`
	Heroku     json.RawMessage `json:"heroku,omitempty"`
}

func (s *Servers) loadState() error {
	b, err := os.ReadFile(s.stateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("state %s: %w (delete it to start afresh)", s.stateFile, err)
	}
	if st.Version != 1 {
		return fmt.Errorf("state %s: version %d not understood (delete it to start afresh)", s.stateFile, st.Version)
	}
	if d, err := time.ParseDuration(st.ClockOffset); err == nil {
		s.Kit.Clock.Advance(d - s.Kit.Clock.Offset())
	}
	if err := s.GitHub.RestoreState(st.GitHub); err != nil {
		return fmt.Errorf("state %s: github: %w", s.stateFile, err)
	}
	if err := s.Infisical.RestoreState(st.Infisical); err != nil {
		return fmt.Errorf("state %s: infisical: %w", s.stateFile, err)
	}
	if len(st.Cloudflare) > 0 {
		if err := s.Cloudflare.RestoreState(st.Cloudflare); err != nil {
			return fmt.Errorf("state %s: cloudflare: %w", s.stateFile, err)
		}
	}
	if len(st.AWS) > 0 {
		if err := s.AWS.RestoreState(st.AWS); err != nil {
			return fmt.Errorf("state %s: aws: %w", s.stateFile, err)
		}
	}
	if len(st.Heroku) > 0 {
		if err := s.Heroku.RestoreState(st.Heroku); err != nil {
			return fmt.Errorf("state %s: heroku: %w", s.stateFile, err)
		}
	}
	return nil
}

// SaveState writes both emulators' state (0600: it holds dev secrets) to the
// state file, atomically. Without a state file it does nothing.
func (s *Servers) SaveState() error {
	if s.stateFile == "" {
		return nil
	}
	gh, err := s.GitHub.MarshalState()
	if err != nil {
		return err
	}
	inf, err := s.Infisical.MarshalState()
	if err != nil {
		return err
	}
	cf, err := s.Cloudflare.MarshalState()
	if err != nil {
		return err
	}
	aw, err := s.AWS.MarshalState()
	if err != nil {
		return err
	}
	hk, err := s.Heroku.MarshalState()
	if err != nil {
		return err
	}
	b, err := json.Marshal(stateFile{Version: 1, ClockOffset: s.Kit.Clock.Offset().String(), GitHub: gh, Infisical: inf,
		Cloudflare: cf, AWS: aw, Heroku: hk})
	if err != nil {
		return err
	}
	return writeFileAtomic(s.stateFile, b, 0o600)
}

// Close stops serving and saves the state.
func (s *Servers) Close() error {
	var err error
	s.closeOnce.Do(func() {
		for _, srv := range s.servers {
			_ = srv.Close()
		}
		err = s.SaveState()
	})
	return err
}

// Env is the environment a handoff command needs to run against these
// servers, provisioner credentials included: hand it to a child process or
// write it with WriteEnvFile, never print it. keyFile is the path of the App
// private key written by WriteKeyFile.
func (s *Servers) Env(keyFile string) map[string]string {
	clientID, clientSecret := s.Infisical.ProvisionerCredentials()
	env := map[string]string{
		"INFISICAL_SITE_URL":          s.InfisicalURL,
		"INFISICAL_CLIENT_ID":         clientID,
		"INFISICAL_CLIENT_SECRET":     clientSecret,
		"INFISICAL_ORGANIZATION_ID":   s.Infisical.OrganizationID(),
		"INFISICAL_PROJECT_ID":        s.Infisical.ProjectID(),
		"HANDOFF_GITHUB_API_URL":      s.GitHubURL,
		"HANDOFF_GITHUB_APP_ID":       strconv.FormatInt(s.GitHub.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY_FILE": keyFile,
		// The CLI follows the dev clock, which tests and the demo advance.
		"HANDOFF_DEV_CLOCK_URL": s.GitHubURL + "/_dev/clock",
	}
	// The tool paces itself to the limits these servers enforce.
	env["HANDOFF_INFISICAL_RATE_LIMITS"], env["HANDOFF_GITHUB_RATE_LIMITS"] = "cloud", "github.com"
	if s.noLimits || s.Infisical.RateLimits().Profile == infisicalsrv.ProfileSelfHosted {
		env["HANDOFF_INFISICAL_RATE_LIMITS"] = "self-hosted"
	}
	if s.noLimits {
		env["HANDOFF_GITHUB_RATE_LIMITS"] = "enterprise"
	}
	if s.CloudflareURL != "" {
		env["CLOUDFLARE_API_TOKEN"] = s.Cloudflare.ProvisionerToken()
		env["HANDOFF_CLOUDFLARE_API_URL"] = s.CloudflareURL + cloudflaresrv.BasePath
	}
	if s.AWSURL != "" {
		for k, v := range s.AWS.Env(s.AWSURL) {
			env[k] = v
		}
	}
	if s.HerokuURL != "" {
		env["HEROKU_API_KEY"] = s.Heroku.ProvisionerAPIKey()
		env["HANDOFF_HEROKU_API_URL"] = s.HerokuURL
	}
	// The GitOps repository of the dev fixtures: a workflow there finds its
	// own token in GITHUB_TOKEN and its name in GITHUB_REPOSITORY.
	if tok, ok := s.GitHub.ActionsToken(DevRepository); ok {
		env["GITHUB_TOKEN"] = tok
		env["GITHUB_REPOSITORY"] = DevRepository
	}
	return env
}

// WriteKeyFile writes the App's private key PEM to path with mode 0600.
func (s *Servers) WriteKeyFile(path string) error {
	return writeFileAtomic(path, s.GitHub.AppPrivateKeyPEM(), 0o600)
}

// WriteEnvFile writes Env as a shell-sourceable file (`set -a; . FILE`) with
// mode 0600.
func (s *Servers) WriteEnvFile(path, keyFile string) error {
	env := s.Env(keyFile)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# handoff dev: provisioner credentials for the local servers. Do not commit.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s='%s'\n", k, strings.ReplaceAll(env[k], "'", `'\''`))
	}
	return writeFileAtomic(path, []byte(b.String()), 0o600)
}

// writeFileAtomic writes a file of the dev directory, which it creates
// (0700: it holds credentials) when missing.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, mode)
}

// NoRateLimits switches every emulator's rate limits off, for benchmarks
// that measure the tool rather than the vendors' limits (their reports say
// so).
func (s *Servers) NoRateLimits() {
	s.GitHub.SetRateLimits(githubsrv.NoRateLimits())
	s.Infisical.SetRateLimits(infisicalsrv.RateLimits{Profile: infisicalsrv.ProfileSelfHosted})
	s.Cloudflare.SetRateLimit(-1, 0)
	s.AWS.SetThrottling(false)
	s.Heroku.SetRateLimiting(false)
	s.noLimits = true
}

// LimitsSummary says which rate limits the emulators enforce.
func (s *Servers) LimitsSummary() string {
	if s.noLimits {
		return "off (every vendor)"
	}
	inf := "Infisical Cloud's per route (secrets 40/min, reads 60, writes 200, identity creation 30)"
	if s.Infisical.RateLimits().Profile == infisicalsrv.ProfileSelfHosted {
		inf = "Infisical self-hosted (none)"
	}
	return inf + "; GitHub's primary and secondary; Cloudflare 1,200/5 min; AWS throttling; Heroku 4,500/h"
}
