handoff "founders-checkout-20260621" {
  card        = 3206
  description = "Founders' plan checkout on a restricted Stripe test key"
  ttl         = "24h"
  approved_by = "ops"

  stripe {
    mode        = "test"
    permissions = { checkout_sessions = "write", subscriptions = "read", webhook_endpoints = "read" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/STRIPE_*"]
  }
}
