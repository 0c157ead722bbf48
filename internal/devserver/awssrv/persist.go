package awssrv

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// snapshot is the JSON form of the whole state.
type snapshot struct {
	Format int    `json:"format"`
	State  *state `json:"state"`
}

const snapshotFormat = 1

// MarshalState returns the full state as JSON, so that `handoff dev -state`
// survives a restart. It holds secret access keys, session tokens and
// parameter values: store it with mode 0600.
func (s *Server) MarshalState() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return json.Marshal(snapshot{Format: snapshotFormat, State: s.st})
}

// RestoreState replaces the whole state with one produced by MarshalState.
// Empty input (or JSON null) leaves the state as it is.
func (s *Server) RestoreState(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("aws state: %w", err)
	}
	if snap.Format != snapshotFormat {
		return fmt.Errorf("aws state: format %d not understood", snap.Format)
	}
	st := snap.State
	if st == nil || !accountRe.MatchString(st.AccountID) || st.Region == "" {
		return fmt.Errorf("aws state: account or region missing")
	}
	for _, m := range []bool{st.Users == nil, st.Keys == nil, st.Roles == nil, st.Sessions == nil, st.Params == nil} {
		if m {
			return fmt.Errorf("aws state: a section is missing")
		}
	}
	for k, u := range st.Users {
		if u == nil {
			return fmt.Errorf("aws state: user %s is empty", k)
		}
	}
	for k, r := range st.Roles {
		if r == nil {
			return fmt.Errorf("aws state: role %s is empty", k)
		}
	}
	for k, ss := range st.Sessions {
		if ss == nil {
			return fmt.Errorf("aws state: session %s is empty", k)
		}
	}
	for k, ak := range st.Keys {
		if ak == nil {
			return fmt.Errorf("aws state: key %s is empty", k)
		}
	}
	for k, p := range st.Params {
		if p == nil {
			return fmt.Errorf("aws state: parameter %s is empty", k)
		}
	}
	if err := st.compile(); err != nil {
		return fmt.Errorf("aws state: %w", err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.limiter.reset()
	return nil
}
