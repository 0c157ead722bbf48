handoff "acme-dns-20260621" {
  card        = 3630
  description = "Renews the TLS certificate of example.com (ACME DNS-01 challenge records)"
  ttl         = "4h"
  approved_by = "ops"

  # A Cloudflare API token named handoff-acme-dns-20260621: DNS Write on
  # example.com only, one hour at a time (refreshed by the scheduled apply).
  # Add request_ip = ["<your runners' CIDR>"] to pin it to your runners.
  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Write"]
    ttl               = "1h"
  }
}
