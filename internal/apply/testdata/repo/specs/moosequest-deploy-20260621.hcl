handoff "moosequest-deploy-20260621" {
  card        = 3712
  description = "Staging deploy checks that read the app's config vars"
  ttl         = "24h"
  approved_by = "ops"

  heroku {
    app   = "moosequest-staging"
    scope = ["read-protected"]
    ttl   = "1h"
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/DEPLOY_*"]
  }
}
