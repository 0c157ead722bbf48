package githubsrv

import "fmt"

// This file changes the server's world as a person would on GitHub's web
// pages, for tests and for `handoff dev`: what no API of the contract does.

// SetRepositorySelection changes which repositories installation id
// reaches, as an owner does on GitHub (the installation's settings →
// Repository access): "all" (every repository of the account) or
// "selected" (only repos, names within the account, at least one: GitHub's
// settings page does not save an empty selection). As on GitHub, it takes
// effect at once, for tokens already minted too: a repository taken away
// answers them 404. The installation's updated_at moves to the server's
// clock.
func (s *Server) SetRepositorySelection(id int64, selection string, repos ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.w
	in := w.installByID[id]
	if in == nil {
		return fmt.Errorf("githubsrv: no installation %d", id)
	}
	owned := w.reposByOwner[lower(in.Account)]
	switch selection {
	case "all":
		in.Repositories = nil
		delete(w.installRepoIDs, id)
		w.installRepos[id] = owned
	case "selected":
		if len(repos) == 0 {
			return fmt.Errorf("githubsrv: installation %d: a selected repository selection names at least one repository", id)
		}
		set := map[int64]bool{}
		var names []string
		for _, name := range repos {
			r := w.repoByName[lower(in.Account+"/"+name)]
			if r == nil {
				return fmt.Errorf("githubsrv: installation %d: repository %s/%s does not exist", id, in.Account, name)
			}
			set[r.ID] = true
			names = append(names, r.Name)
		}
		var reached []*Repository
		for _, r := range owned {
			if set[r.ID] {
				reached = append(reached, r)
			}
		}
		in.Repositories = names
		w.installRepoIDs[id] = set
		w.installRepos[id] = reached
	default:
		return fmt.Errorf("githubsrv: repository_selection %q is not all or selected", selection)
	}
	in.RepositorySelection = selection
	in.UpdatedAt = s.kit.Clock.Now().UTC()
	return nil
}
