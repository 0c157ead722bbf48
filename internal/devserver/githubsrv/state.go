package githubsrv

import (
	"encoding/json"
	"fmt"
)

// stateVersion is the version of MarshalState's document.
const stateVersion = 1

// persistedState is the whole state of a server: the fixture as the server
// changed it, the minted installation tokens (fingerprints only), the
// counters and the rate-limit windows.
type persistedState struct {
	Version            int                  `json:"version"`
	Fixture            Fixture              `json:"fixture"`
	InstallationTokens []*installationToken `json:"installation_tokens"`
	NextCommentID      int64                `json:"next_comment_id"`
	NextPATID          int64                `json:"next_pat_id"`
	PrimaryWindows     map[string]window    `json:"primary_rate_limit_windows"`
	SecondaryWindows   map[string]window    `json:"secondary_rate_limit_windows"`
	ContentHourWindows map[string]window    `json:"content_creation_hour_windows,omitempty"`
	PointsWindows      map[string]window    `json:"endpoint_points_windows,omitempty"`
}

// MarshalState returns the server's whole state as JSON, for RestoreState in
// a later process (`handoff dev -state FILE`). It holds the App's private
// key and the Actions tokens, never a minted installation token: write it
// with mode 0600.
func (s *Server) MarshalState() ([]byte, error) {
	s.mu.RLock()
	st := persistedState{
		Version:       stateVersion,
		Fixture:       s.w.toFixture(),
		NextCommentID: s.w.nextCommentID,
		NextPATID:     s.w.nextPATID,
	}
	for _, t := range s.w.tokens {
		c := *t
		c.RepositoryIDs = append([]int64(nil), t.RepositoryIDs...)
		c.Permissions = clonePerms(t.Permissions)
		st.InstallationTokens = append(st.InstallationTokens, &c)
	}
	s.mu.RUnlock()
	ws := s.lim.snapshot()
	st.PrimaryWindows, st.SecondaryWindows, st.ContentHourWindows, st.PointsWindows = ws.Primary, ws.Secondary, ws.ContentHour, ws.Points
	return json.MarshalIndent(st, "", "  ")
}

// RestoreState replaces the server's state with one MarshalState returned.
// The state is validated as New validates a fixture; on error the server is
// left as it was.
func (s *Server) RestoreState(data []byte) error {
	var st persistedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("githubsrv: restore state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("githubsrv: restore state: version %d, want %d", st.Version, stateVersion)
	}
	if st.Fixture.App.PrivateKeyPEM == "" {
		return fmt.Errorf("githubsrv: restore state: the App's private key is missing")
	}
	for _, t := range st.Fixture.ActionsTokens {
		if t.Token == "" {
			return fmt.Errorf("githubsrv: restore state: an Actions token for %s is missing", t.Repository)
		}
	}
	w, err := buildWorld(st.Fixture)
	if err != nil {
		return fmt.Errorf("githubsrv: restore state: %w", err)
	}
	for _, t := range st.InstallationTokens {
		if t == nil || len(t.Fingerprint) != 64 || w.installByID[t.InstallationID] == nil {
			return fmt.Errorf("githubsrv: restore state: an installation token is malformed or names an unknown installation")
		}
		if w.tokenByFpr[t.Fingerprint] != nil {
			return fmt.Errorf("githubsrv: restore state: token …%s listed twice", t.Last4)
		}
		w.tokens = append(w.tokens, t)
		w.tokenByFpr[t.Fingerprint] = t
	}
	if st.NextCommentID > w.nextCommentID {
		w.nextCommentID = st.NextCommentID
	}
	if st.NextPATID > w.nextPATID {
		w.nextPATID = st.NextPATID
	}
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
	s.lim.restore(windowSet{st.PrimaryWindows, st.SecondaryWindows, st.ContentHourWindows, st.PointsWindows})
	return nil
}
