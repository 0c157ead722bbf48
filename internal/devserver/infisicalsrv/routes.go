package infisicalsrv

// routes registers every emulated operation. Paths and methods are
// Infisical's; the contract (shared/contracts/infisical.openapi.json) names
// each operation, and the package's contract tour exercises all of them.
func (s *Server) routes() {
	pub := routeOpts{}
	auth := routeOpts{auth: true}
	authOptBody := routeOpts{auth: true, optionalBody: true}

	// Universal auth login and the access-token lifecycle.
	s.handle("POST /api/v1/auth/universal-auth/login", pub, s.login)
	s.handle("POST /api/v1/auth/token/renew", pub, s.renew)
	s.handle("POST /api/v1/auth/token/revoke", pub, s.revokeToken)

	// Universal auth configuration and client secrets.
	ua := "/api/v1/auth/universal-auth/identities/{identityId}"
	s.handle("POST "+ua, authOptBody, s.attachUA)
	s.handle("PATCH "+ua, authOptBody, s.updateUA)
	s.handle("GET "+ua, auth, s.getUA)
	s.handle("DELETE "+ua, auth, s.deleteUA)
	s.handle("POST "+ua+"/client-secrets", authOptBody, s.createClientSecret)
	s.handle("GET "+ua+"/client-secrets", auth, s.listClientSecrets)
	s.handle("GET "+ua+"/client-secrets/{clientSecretId}", auth, s.getClientSecret)
	s.handle("POST "+ua+"/client-secrets/{clientSecretId}/revoke", authOptBody, s.revokeClientSecret)
	s.handle("POST "+ua+"/clear-lockouts", authOptBody, s.clearLockouts)

	// Machine identities.
	s.handle("POST /api/v1/identities", auth, s.createIdentity)
	s.handle("GET /api/v1/identities", auth, s.listIdentities)
	s.handle("GET /api/v1/identities/{identityId}", auth, s.getIdentity)
	s.handle("PATCH /api/v1/identities/{identityId}", authOptBody, s.updateIdentity)
	s.handle("DELETE /api/v1/identities/{identityId}", authOptBody, s.deleteIdentity)
	s.handle("GET /api/v1/identities/{identityId}/identity-memberships", auth, s.listIdentityProjectMemberships)

	// Project memberships of identities: current and deprecated paths.
	pm := "/api/v1/projects/{projectId}/memberships/identities"
	s.handle("POST "+pm+"/{identityId}", authOptBody, s.createMembership)
	s.handle("PATCH "+pm+"/{identityId}", auth, s.updateMembership)
	s.handle("DELETE "+pm+"/{identityId}", authOptBody, s.deleteMembership)
	s.handle("GET "+pm+"/{identityId}", auth, s.getMembership)
	s.handle("GET "+pm, auth, s.listMemberships)
	s.handle("POST /api/v1/projects/{projectId}/identity-memberships/{identityId}", authOptBody, s.createMembership)
	s.handle("DELETE /api/v1/projects/{projectId}/identity-memberships/{identityId}", authOptBody, s.deleteMembership)
	s.handle("POST /api/v2/workspace/{projectId}/identity-memberships/{identityId}", authOptBody, s.createMembership)
	s.handle("PATCH /api/v2/workspace/{projectId}/identity-memberships/{identityId}", auth, s.updateMembershipLegacy)
	s.handle("DELETE /api/v2/workspace/{projectId}/identity-memberships/{identityId}", authOptBody, s.deleteMembership)

	// Additional privileges: v2 and the deprecated v1.
	ap := "/api/v2/identity-project-additional-privilege"
	s.handle("POST "+ap, auth, s.createPrivilegeV2)
	s.handle("GET "+ap, auth, s.listPrivilegesV2)
	s.handle("GET "+ap+"/{id}", auth, s.getPrivilegeV2)
	s.handle("PATCH "+ap+"/{id}", auth, s.updatePrivilegeV2)
	s.handle("DELETE "+ap+"/{id}", authOptBody, s.deletePrivilegeV2)
	s.handle("GET "+ap+"/slug/{privilegeSlug}", auth, s.getPrivilegeBySlugV2)
	s.handle("POST /api/v1/additional-privilege/identity/permanent", auth, s.createPrivilegeV1Permanent)
	s.handle("POST /api/v1/additional-privilege/identity/temporary", auth, s.createPrivilegeV1Temporary)
	s.handle("DELETE /api/v1/additional-privilege/identity", auth, s.deletePrivilegeV1)
	s.handle("GET /api/v1/additional-privilege/identity", auth, s.listPrivilegesV1)

	// Folders.
	s.handle("POST /api/v2/folders", auth, s.createFolderV2)
	s.handle("GET /api/v2/folders", auth, s.listFoldersV2)
	s.handle("GET /api/v2/folders/{folderIdOrName}", auth, s.getFolderV2)
	s.handle("PATCH /api/v2/folders/{folderIdOrName}", auth, s.updateFolderV2)
	s.handle("DELETE /api/v2/folders/{folderIdOrName}", auth, s.deleteFolderV2)
	s.handle("POST /api/v1/folders", auth, s.createFolderV1)
	s.handle("GET /api/v1/folders", auth, s.listFoldersV1)
	s.handle("DELETE /api/v1/folders/{folderIdOrName}", auth, s.deleteFolderV1)

	// Raw secrets: v4 and the deprecated v3.
	s.handle("GET /api/v4/secrets", auth, s.listSecretsV4)
	s.handle("GET /api/v4/secrets/{secretName}", auth, s.getSecretV4)
	s.handle("POST /api/v4/secrets/{secretName}", auth, s.createSecretV4)
	s.handle("PATCH /api/v4/secrets/{secretName}", auth, s.updateSecretV4)
	s.handle("DELETE /api/v4/secrets/{secretName}", auth, s.deleteSecretV4)
	s.handle("GET /api/v3/secrets/raw", auth, s.listSecretsV3)
	s.handle("GET /api/v3/secrets/raw/{secretName}", auth, s.getSecretV3)
	s.handle("POST /api/v3/secrets/raw/{secretName}", auth, s.createSecretV3)
	s.handle("PATCH /api/v3/secrets/raw/{secretName}", auth, s.updateSecretV3)
	s.handle("DELETE /api/v3/secrets/raw/{secretName}", auth, s.deleteSecretV3)

	// Batch raw secrets: v4 and the deprecated v3.
	s.handle("POST /api/v4/secrets/batch", auth, s.createManyV4)
	s.handle("PATCH /api/v4/secrets/batch", auth, s.updateManyV4)
	s.handle("DELETE /api/v4/secrets/batch", auth, s.deleteManyV4)
	s.handle("POST /api/v3/secrets/batch/raw", auth, s.createManyV3)
	s.handle("PATCH /api/v3/secrets/batch/raw", auth, s.updateManyV3)
	s.handle("DELETE /api/v3/secrets/batch/raw", auth, s.deleteManyV3)

	// Audit log.
	s.handle("GET /api/v1/organization/audit-logs", auth, s.listAuditLogs)
}
