package cloudflaresrv

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// stateVersion is the version of MarshalState's document.
const stateVersion = 1

// persistedState is the whole state of a server: the world (tokens by
// fingerprint, fixture tokens with their values), the rate-limit windows
// and the settings changed at run time.
type persistedState struct {
	Version          int                 `json:"version"`
	State            *state              `json:"state"`
	RateLimitWindows map[string]rlWindow `json:"rate_limit_windows"`
}

// MarshalState returns the server's whole state as JSON, for RestoreState in
// a later process (`handoff dev -state FILE`). It holds the provisioner
// token's value (configuration, like a dev password) and no minted token's:
// write it with mode 0600.
func (s *Server) MarshalState() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	return json.Marshal(persistedState{Version: stateVersion, State: s.st, RateLimitWindows: s.lim.snapshot()})
}

// RestoreState replaces the server's state with one MarshalState returned.
// Empty input (or JSON null) leaves the state as it is; on any error the
// server is left as it was.
func (s *Server) RestoreState(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var ps persistedState
	if err := json.Unmarshal(data, &ps); err != nil {
		return fmt.Errorf("cloudflaresrv: restore state: %w", err)
	}
	if ps.Version != stateVersion {
		return fmt.Errorf("cloudflaresrv: restore state: version %d, want %d", ps.Version, stateVersion)
	}
	st := ps.State
	if st == nil || !hexID32.MatchString(st.User.ID) {
		return fmt.Errorf("cloudflaresrv: restore state: no user")
	}
	if err := st.index(); err != nil {
		return fmt.Errorf("cloudflaresrv: restore state: %w", err)
	}
	for _, t := range st.Tokens {
		for _, p := range t.Policies {
			for _, id := range p.PermissionGroups {
				if st.groupByID[id] == nil {
					return fmt.Errorf("cloudflaresrv: restore state: token %s names unknown permission group %s", t.ID, id)
				}
			}
		}
		if t.Value != "" && fingerprint(t.Value) != t.Fingerprint {
			return fmt.Errorf("cloudflaresrv: restore state: token %s: value and fingerprint disagree", t.ID)
		}
	}
	if st.ProvisionerID != "" && st.tokenByID[st.ProvisionerID] == nil {
		return fmt.Errorf("cloudflaresrv: restore state: provisioner token %s missing", st.ProvisionerID)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.lim.restore(ps.RateLimitWindows)
	return nil
}
