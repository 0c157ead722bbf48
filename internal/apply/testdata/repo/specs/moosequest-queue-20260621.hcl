handoff "moosequest-queue-20260621" {
  card        = 3350
  description = "Drains the MooseQuest queue, reading its SSM parameters through an STS session"
  ttl         = "24h"
  approved_by = "ops"

  aws {
    role_arn = "arn:aws:iam::123456789012:role/handoff/raxx-handoff-agent"
    region   = "us-east-1"
    ssm_read = ["/raxx/moosequest-queue/"]
    duration = "1h"
  }

  mcp {
    allow = ["queue_drain"]
  }
}
