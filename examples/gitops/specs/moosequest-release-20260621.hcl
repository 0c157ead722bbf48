handoff "moosequest-release-20260621" {
  card        = 3713
  description = "Staging release of MooseQuest: reads its SSM parameters and the staging app's config vars, updates the release's DNS records"
  ttl         = "24h"
  approved_by = "ops"

  # An STS session of the role prepared for handoffs, narrowed to one SSM
  # path, one hour at a time (docs/vendors/aws.md).
  aws {
    role_arn = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"
    region   = "us-east-1"
    ssm_read = ["/raxx/moosequest-queue/"]
    duration = "1h"
  }

  # An OAuth token of the dedicated Heroku account: reads the app's config
  # vars, changes nothing (docs/vendors/heroku.md).
  heroku {
    app   = "moosequest-staging"
    scope = ["read-protected"]
    ttl   = "1h"
  }

  # A Cloudflare API token named handoff-moosequest-release-20260621: DNS
  # Write on example.com only (docs/vendors/cloudflare.md).
  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "1h"
  }
}
