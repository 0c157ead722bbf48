handoff "render-me" {
  card = 3629
	ttl  = "48h"
  description = "naïve café ☕ — wide"
  github {
    permissions = { administration = "write" }
  }
  infisical {
    read = [
      "/a",
      "/b",
    ]
  }
}
