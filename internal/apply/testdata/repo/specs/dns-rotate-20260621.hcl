handoff "dns-rotate-20260621" {
  card        = 3631
  description = "Rotates the ACME challenge records of example.com"
  ttl         = "24h"
  approved_by = "ops"

  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "1h"
  }

  mcp {
    allow = ["cloudflare_dns_records_edit"]
  }
}
