handoff "tidy-task" {
  card        = 2
  ttl         = "1h"
  approved_by = "ops"
}
