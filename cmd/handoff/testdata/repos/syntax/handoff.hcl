infisical {
  environment = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}
