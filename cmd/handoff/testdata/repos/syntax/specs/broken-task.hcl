handoff "broken-task" {
  card = 1
  ttl = "1h"
  approved_by = "ops"
