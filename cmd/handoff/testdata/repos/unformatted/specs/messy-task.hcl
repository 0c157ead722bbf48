handoff "messy-task" {
card = 1
    ttl = "1h"
  approved_by="ops"

  github {
      repository = "raxx-app/TradeMasterAPI"
      permissions = { contents = "read" }
  }







  mcp {
    allow = ["a"]
  exclude = ["b"]
  }
}
