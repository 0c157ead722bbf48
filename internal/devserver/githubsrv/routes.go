package githubsrv

import (
	"net/http"
	"strconv"
)

// Documentation links GitHub answers errors with, per endpoint.
const (
	docGetApp              = "https://docs.github.com/rest/apps/apps#get-the-authenticated-app"
	docListInstallations   = "https://docs.github.com/rest/apps/apps#list-installations-for-the-authenticated-app"
	docGetInstallation     = "https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app"
	docCreateToken         = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
	docRepoInstallation    = "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"
	docOrgInstallation     = "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app"
	docInstallationRepos   = "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation"
	docRevokeToken         = "https://docs.github.com/rest/apps/installations#revoke-an-installation-access-token"
	docGetRepo             = "https://docs.github.com/rest/repos/repos#get-a-repository"
	docRateLimitStatus     = "https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user"
	docMeta                = "https://docs.github.com/rest/meta/meta#get-github-meta-information"
	docListPATs            = "https://docs.github.com/rest/orgs/personal-access-tokens#list-fine-grained-personal-access-tokens-with-access-to-organization-resources"
	docRevokePATs          = "https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens"
	docRevokePAT           = "https://docs.github.com/rest/orgs/personal-access-tokens#update-the-access-a-fine-grained-personal-access-token-has-to-organization-resources"
	docPATRepos            = "https://docs.github.com/rest/orgs/personal-access-tokens#list-repositories-a-fine-grained-personal-access-token-has-access-to"
	docListPATRequests     = "https://docs.github.com/rest/orgs/personal-access-tokens#list-requests-to-access-organization-resources-with-fine-grained-personal-access-tokens"
	docReviewPATRequest    = "https://docs.github.com/rest/orgs/personal-access-tokens#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token"
	docListComments        = "https://docs.github.com/rest/issues/comments#list-issue-comments"
	docCreateComment       = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
	docUpdateComment       = "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
	docGetPull             = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
	msgListReposNeedsToken = "You must authenticate with an installation access token in order to list repositories for an installation."
	msgRevokeNeedsToken    = "You must authenticate with an installation access token in order to revoke it"
)

// routes registers every endpoint of the contract.
func (s *Server) routes() {
	// The App, authenticated with its JWT.
	s.handle("GET /app", endpoint{doc: docGetApp, auth: authJWT, h: s.getApp})
	s.handle("GET /app/installations", endpoint{doc: docListInstallations, auth: authJWT, h: s.listInstallations})
	s.handle("GET /app/installations/{installation_id}", endpoint{doc: docGetInstallation, auth: authJWT, h: s.getInstallation})
	s.handle("POST /app/installations/{installation_id}/access_tokens", endpoint{doc: docCreateToken, auth: authJWT, h: s.createAccessToken})
	s.handle("GET /repos/{owner}/{repo}/installation", endpoint{doc: docRepoInstallation, auth: authJWT, h: s.getRepoInstallation})
	s.handle("GET /orgs/{org}/installation", endpoint{doc: docOrgInstallation, auth: authJWT, h: s.getOrgInstallation})

	// The installation, authenticated with one of its tokens.
	s.handle("GET /installation/repositories", endpoint{doc: docInstallationRepos, auth: authToken, jwtRefusal: msgListReposNeedsToken, h: s.listInstallationRepos})
	s.handle("DELETE /installation/token", endpoint{doc: docRevokeToken, auth: authToken, jwtRefusal: msgRevokeNeedsToken, free: true, h: s.revokeToken})

	// Repositories, pull requests and comments.
	s.handle("GET /repos/{owner}/{repo}", endpoint{doc: docGetRepo, h: s.getRepo})
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}", endpoint{doc: docGetPull, h: s.getPull})
	s.handle("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", endpoint{doc: docListComments, h: s.listComments})
	s.handle("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", endpoint{doc: docCreateComment, auth: authToken, h: s.createComment})
	s.handle("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", endpoint{doc: docUpdateComment, auth: authToken, h: s.updateComment})

	// Issues: not in the contract file (see routes_issues.go).
	s.issueRoutes()

	// Fine-grained personal access tokens of an organization.
	s.handle("GET /orgs/{org}/personal-access-tokens", endpoint{doc: docListPATs, auth: authToken, h: s.listPATs})
	s.handle("POST /orgs/{org}/personal-access-tokens", endpoint{doc: docRevokePATs, auth: authToken, h: s.revokePATs})
	s.handle("POST /orgs/{org}/personal-access-tokens/{pat_id}", endpoint{doc: docRevokePAT, auth: authToken, h: s.revokePAT})
	s.handle("GET /orgs/{org}/personal-access-tokens/{pat_id}/repositories", endpoint{doc: docPATRepos, auth: authToken, h: s.listPATRepos})
	s.handle("GET /orgs/{org}/personal-access-token-requests", endpoint{doc: docListPATRequests, auth: authToken, h: s.listPATRequests})
	s.handle("POST /orgs/{org}/personal-access-token-requests/{pat_request_id}", endpoint{doc: docReviewPATRequest, auth: authToken, h: s.reviewPATRequest})

	// Rate limit and meta.
	s.handle("GET /rate_limit", endpoint{doc: docRateLimitStatus, free: true, h: s.getRateLimit})
	s.handle("GET /meta", endpoint{doc: docMeta, h: s.getMeta})
}

// pathInt reads an integer path value; GitHub answers 404 to anything else.
func (c *call) pathInt(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	return n, err == nil && n > 0
}

// refuseApp refuses the App's JWT on repository endpoints, which only
// installations and users may call.
func (c *call) refuseApp() bool {
	if c.cred.kind == appJWT {
		c.fail(newError(http.StatusForbidden, msgNotAccessible))
		return true
	}
	return false
}
