package herokusrv

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// stateVersion is the version of MarshalState's document.
const stateVersion = 1

// persistedState is the whole state of a server: the fixture as the server
// changed it (config vars), the OAuth authorizations (token fingerprints
// only) and the rate-limit pools.
type persistedState struct {
	Version        int               `json:"version"`
	Fixture        Fixture           `json:"fixture"`
	Authorizations []*authorization  `json:"authorizations"`
	RateLimits     map[string]bucket `json:"rate_limits"`
}

// MarshalState returns the server's whole state as JSON, for RestoreState
// in a later process (`handoff dev -state FILE`). It holds the accounts' API
// keys and the apps' config vars, never an OAuth access token: write it
// with mode 0600.
func (s *Server) MarshalState() ([]byte, error) {
	s.mu.RLock()
	st := persistedState{Version: stateVersion, Fixture: s.w.toFixture(), Authorizations: []*authorization{}}
	for _, a := range s.w.sortedAuths("") {
		c := *a
		c.Scope = append([]string(nil), a.Scope...)
		st.Authorizations = append(st.Authorizations, &c)
	}
	s.mu.RUnlock()
	st.RateLimits = s.lim.snapshot()
	return json.MarshalIndent(st, "", "  ")
}

// RestoreState replaces the server's state with one MarshalState returned.
// Empty input (or JSON null) leaves the state as it is; on error the server
// is left as it was.
func (s *Server) RestoreState(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var st persistedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("herokusrv: restore state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("herokusrv: restore state: version %d, want %d", st.Version, stateVersion)
	}
	for _, a := range st.Fixture.Accounts {
		if a.APIKey == "" {
			return fmt.Errorf("herokusrv: restore state: the API key of %s is missing", a.Email)
		}
	}
	w, err := buildWorld(st.Fixture)
	if err != nil {
		return fmt.Errorf("herokusrv: restore state: %w", err)
	}
	for _, a := range st.Authorizations {
		if a == nil || a.ID == "" || len(a.Fingerprint) != 64 || w.accountByID[a.AccountID] == nil {
			return fmt.Errorf("herokusrv: restore state: an authorization is malformed or names an unknown account")
		}
		if w.auths[a.ID] != nil || w.authByFpr[a.Fingerprint] != nil {
			return fmt.Errorf("herokusrv: restore state: authorization %s listed twice", a.ID)
		}
		w.addAuth(a)
	}
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
	s.lim.configure(w.rate)
	s.lim.restore(st.RateLimits)
	return nil
}
