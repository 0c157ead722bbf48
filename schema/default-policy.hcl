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

  # AWS (the aws block; docs/vendors/aws.md). Roles a handoff may assume, by
  # exact ARN: none until an operator prepares a role for handoffs and lists
  # it in handoff.hcl. What the typed grants may reach: SSM parameter paths
  # at or below a root, S3 prefixes at or below a prefix, SQS queues by ARN.
  aws_role_arns        = []
  aws_ssm_read_roots   = []
  aws_s3_read_prefixes = []
  aws_sqs_send_queues  = []
}
