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

  # GitHub accounts (organizations or users) whose repositories a handoff may
  # name. Deliberately not set here: unset, no handoff may name any
  # repository. The App may be installed on more accounts than handoffs
  # should reach (a partner organization, a personal account), and which
  # ones they may is a decision for the reviewers of handoff.hcl, never a
  # consequence of where the App happens to be installed. List them in
  # handoff.hcl, for example:
  #   github_owners = ["raxx-app"]
  # and, to narrow further, patterns of repositories within them (* and ?
  # in the name, compared case-insensitively):
  #   github_repositories = ["raxx-app/TradeMasterAPI", "raxx-app/Moose*"]

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

  # AWS (the aws block; docs/vendors/aws.md). Roles a handoff may assume, by
  # exact ARN: none until an operator prepares a role for handoffs and lists
  # it in handoff.hcl. What the typed grants may reach: SSM parameter paths
  # at or below a root, S3 prefixes at or below a prefix, SQS queues by ARN.
  aws_role_arns        = []
  aws_ssm_read_roots   = []
  aws_s3_read_prefixes = []
  aws_sqs_send_queues  = []

  # The mass-revocation guard. A lost specs/ folder, a wrong directory or a
  # bad merge reads exactly like "every spec was deleted", and apply would
  # revoke every live handoff. So apply refuses a plan that revokes, before
  # their TTL ends and because their spec is gone, more than
  # max_revocations handoffs or more than max_revocation_share of the live
  # ones (a single revocation never exceeds the share), unless run with
  # -allow-mass-revocation. Revocations at the end of the TTL never count:
  # the guard must not keep a credential alive past its TTL (H3), and a
  # batch of handoffs made together ends together. Ten at once, or more
  # than half of the fleet, is beyond a routine clean-up and the mark of
  # a lost specs/; set max_revocations = 0 to confirm every such
  # revocation by hand, or raise the limits for a large fleet.
  max_revocations      = 10
  max_revocation_share = "50%"
}
