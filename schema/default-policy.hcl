# The default policy of handoff. The policy block of a repository's
# handoff.hcl overrides it field by field. Whatever either says, the hard
# rules of the validator still hold: max_ttl at most 24h, and never
# administration, secrets, workflows, organization permissions or admin level.
policy {
  max_ttl = "24h"

  # Ceiling of what any handoff may ask on GitHub.
  github_permissions = {
    contents      = "write"
    pull_requests = "write"
    issues        = "write"
    metadata      = "read"
  }

  # Vault folders a handoff may read besides its own <handoff_root>/<slug>/.
  vault_read_roots = []

  # Environments a handoff's read paths may be in. Deliberately not set here:
  # unset, it is the environment of handoff.hcl's infisical block alone (the
  # environment of the handoff folders), so a spec cannot read another
  # environment's copy of a root. List others in handoff.hcl, for example:
  #   vault_read_environments = ["staging"]

  # Ceiling of the permission groups a handoff's Cloudflare API token may
  # hold (zone permission groups, by Cloudflare's names). Whatever a policy
  # says, never Zone Settings Write, Bot Management Write, Zone Write, nor
  # the administration of API tokens, the account, billing or memberships.
  cloudflare_permission_groups = ["Zone Read", "DNS Read", "DNS Write", "Cache Purge"]

  # Zones a handoff's Cloudflare token may reach. None by default, so no
  # spec gets a Cloudflare token until handoff.hcl lists zones, for example:
  #   cloudflare_zones = ["example.com"]
  cloudflare_zones = []

  # Heroku apps a handoff may work on. None by default: a Heroku token reaches
  # every app of the dedicated handoff account, so list here the apps that
  # account has access to, for example:
  #   heroku_apps = ["moosequest-staging"]
  heroku_apps = []
}
