policy {
  max_ttl            = "24h"
  github_permissions = { contents = "write", pull_requests = "write", issues = "write", metadata = "read" }
  vault_read_roots   = []
}
