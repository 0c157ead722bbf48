package specref

// Description is the prose of one file, block or argument of the reference.
type Description struct {
	// Text is Markdown, one or more sentences, on one line in the table.
	Text string
	// Default is the value an optional argument takes when omitted, as it
	// would be written in HCL (`"test"`, `[]`), or a short phrase in plain
	// words for a computed one ("the handoff's ttl").
	// The test checks every default documented here against the parser or
	// the default policy.
	Default string
}

// descriptions holds the prose of the reference, keyed by path: "file:" and
// the file's name for a whole file, the block path for a block
// ("handoff.github"), the block path and the argument for an argument
// ("handoff.github.repository"). Blocks and arguments of handoff.hcl start
// with "config.". Check fails when a key is missing or unknown.
var descriptions = map[string]Description{
	"file:handoff.hcl": {Text: "The repository's configuration: where the vault is, which GitHub App mints tokens, and the " +
		"policy every spec must pass. It holds no secret. Blocks: `infisical` (required by the policy check), " +
		"`github` (required as soon as a spec has a `github` block) and `policy` (optional; it overrides the default " +
		"policy, schema/default-policy.hcl, argument by argument)."},
	"file:specs/<slug>.hcl": {Text: "One handoff per file: exactly one `handoff \"<slug>\"` block, whose label is the " +
		"file's name without `.hcl` or `.hcl.json`. Each surface block asks for one credential; a surface that is " +
		"absent gets nothing. Deleting the file revokes everything the handoff holds at the next apply."},

	// handoff.hcl
	"config.infisical": {Text: "The Infisical project that holds every handoff's folder and identity. The provisioner " +
		"identity (`INFISICAL_CLIENT_ID`, `INFISICAL_CLIENT_SECRET`) must be able to manage folders, secrets, " +
		"identities, memberships and additional privileges there."},
	"config.infisical.site_url": {Text: "Base URL of the Infisical instance, without `/api`. An absolute http(s) URL without " +
		"credentials. `INFISICAL_SITE_URL` overrides it; when neither is set, Infisical Cloud " +
		"(`https://app.infisical.com`) is used.", Default: `"https://app.infisical.com"`},
	"config.infisical.organization_id": {Text: "Id of the Infisical organization that owns the project; the handoffs' " +
		"machine identities are created in it. `INFISICAL_ORGANIZATION_ID` overrides it."},
	"config.infisical.project_id": {Text: "Id of the Infisical project holding the secrets. `INFISICAL_PROJECT_ID` overrides " +
		"it; plan and apply fail when neither gives one."},
	"config.infisical.environment": {Text: "Environment slug (such as `staging` or `prod`, 1 to 64 letters, digits, `_` or " +
		"`-`) in which the handoffs' folders are written and read. A spec's `infisical` block may name another " +
		"environment for its read paths, if the policy's `vault_read_environments` lists it; by default it lists " +
		"only this one."},
	"config.infisical.handoff_root": {Text: "Absolute vault folder under which each handoff gets its own folder " +
		"`<handoff_root>/<slug>/` (its tokens, its identity's credentials and its `PROVISION_MANIFEST`). No `..`, no " +
		"wildcard; it must not overlap `vault_read_roots`."},

	"config.github": {Text: "The GitHub App that mints the handoffs' installation tokens. Its private key comes from the " +
		"environment only (`GITHUB_APP_PRIVATE_KEY` or `GITHUB_APP_PRIVATE_KEY_FILE`). The App's own permissions are the " +
		"outer limit of any token: give it no more than the policy's `github_permissions`."},
	"config.github.api_url": {Text: "REST API base URL: `https://api.github.com`, or `https://HOST/api/v3` for GitHub " +
		"Enterprise Server. `HANDOFF_GITHUB_API_URL` overrides it.", Default: `"https://api.github.com"`},
	"config.github.app_id": {Text: "Numeric id of the App, as shown on its settings page; positive. " +
		"`HANDOFF_GITHUB_APP_ID` overrides it."},

	"config.rotation": {Text: "Enrollment in the organisation's rotation service: where it reads its subscription " +
		"document, which `handoff apply` keeps (one entry per long-lived credential of every active handoff, removed " +
		"when the handoff is revoked) and `handoff rotation` prints. Absent, enrollment is off: nothing is read or " +
		"written. The provisioner needs read and write on that one secret, and only the provisioner may write it: the " +
		"service writes credentials where its entries say. The folder must exist; handoff never creates it."},
	"config.rotation.path": {Text: "Absolute vault folder of the document, outside `handoff_root`; no `..`, no " +
		"wildcard."},
	"config.rotation.secret": {Text: "Name of the secret holding the document in that folder: letters, digits and `_`, " +
		"not starting with a digit."},
	"config.rotation.environment": {Text: "Environment slug of the folder.", Default: "the infisical block's environment"},
	"config.apply":                {Text: "How the repository's applies are run. Optional: without it, the defaults below."},
	"config.apply.schedule": {Text: "Interval of the scheduled apply: the workflow's cron (`*/15 * * * *` is `15m`), " +
		"between `1m` and `45m`. The planner refreshes a credential that lives an hour (a GitHub token) in the last " +
		"run before it expires (within 4/3 of the interval, a run may start late), spreads earlier refreshes over the " +
		"runs of the hour so that handoffs created together are not all refreshed by one run, and the plan says how " +
		"many refreshes the next runs will need. Declare the interval the workflow really runs at.", Default: `"15m"`},

	"config.policy": {Text: "Overrides of the default policy (schema/default-policy.hcl), argument by argument: an " +
		"argument left out keeps the default. Whatever it says, the hard rules hold: a TTL of at most 24h, and never " +
		"`administration`, `secrets`, `dependabot_secrets`, `workflows`, an organization- or account-wide permission, " +
		"or the `admin` level."},
	"config.policy.max_ttl": {Text: "Longest `ttl` a handoff may ask for; positive and at most `24h`.", Default: `"24h"`},
	"config.policy.max_revocations": {Text: "The mass-revocation guard: how many live handoffs one `handoff apply` may revoke " +
		"before their TTL ends because their spec is gone; a whole number, 0 or more (0: every such revocation needs the " +
		"flag). Beyond it, or beyond `max_revocation_share`, apply refuses the plan (exit 5) unless run with " +
		"`-allow-mass-revocation`, and the plan says so. A lost `specs/`, a wrong directory or a bad merge reads like every " +
		"spec deleted. Revocations at the end of a TTL, and `handoff revoke`, never count.", Default: "10"},
	"config.policy.max_revocation_share": {Text: "The mass-revocation guard's other limit: the share of the live handoffs " +
		"one `handoff apply` may revoke before their TTL ends because their spec is gone, a percentage from `\"0%\"` to " +
		"`\"100%\"` (`\"100%\"` turns it off). A single revocation never exceeds it, so deleting the spec of a " +
		"repository's only handoff is not a mass revocation.", Default: `"50%"`},
	"config.policy.github_permissions": {Text: "Ceiling of what any handoff may ask on GitHub: permission name → `read` or " +
		"`write`. A spec may ask for a listed permission at the listed level or lower. Forbidden and unknown " +
		"permission names are errors here too.",
		Default: `{ contents = "write", pull_requests = "write", issues = "write", metadata = "read" }`},
	"config.policy.github_owners": {Text: "GitHub accounts (organization or user logins) whose repositories a spec may " +
		"name, compared case-insensitively; no wildcard. It has no default: unset, no spec may name any repository. " +
		"The App may be installed on more accounts than handoffs should reach; list only those they may, through " +
		"a reviewed change."},
	"config.policy.github_repositories": {Text: "Patterns `owner/name` of the repositories a spec may name, within " +
		"`github_owners`; the name may hold `*`, `?` and `[...]` (as in Go's `path.Match`), the owner no wildcard; " +
		"compared case-insensitively. Unset, every repository of `github_owners`."},
	"config.policy.vault_read_roots": {Text: "Vault folders a handoff may read besides its own folder, as absolute paths " +
		"without wildcards. A spec reads strictly below a root (`<root>/NAME`, `<root>/PREFIX_*`, `<root>/*`), never " +
		"the root itself. A root must not overlap `handoff_root`, or every handoff could read the others' " +
		"credentials. Roots carry no environment: `vault_read_environments` says in which environments they may be read.",
		Default: "[]"},
	"config.policy.cloudflare_permission_groups": {Text: "Ceiling of the Cloudflare permission groups any handoff's token " +
		"may hold, by Cloudflare's exact names. Forbidden groups (`Zone Settings Write`, `Bot Management Write`, " +
		"`Zone Write`, and any that administers API tokens, the account, billing or memberships) are errors here too.",
		Default: `["Zone Read", "DNS Read", "DNS Write", "Cache Purge"]`},
	"config.policy.cloudflare_zones": {Text: "Zones (names or ids) a handoff's Cloudflare token may reach. Empty by " +
		"default: no spec gets a Cloudflare token until this lists its zones, through a reviewed change.",
		Default: "[]"},
	"config.policy.vault_read_environments": {Text: "Environment slugs a spec's `infisical` read paths may be in (its " +
		"`environment`, or the infisical block's when it names none). Without it, handoffs read only in the " +
		"infisical block's `environment`, so a spec cannot read the `prod` copy of a root meant for `staging`. " +
		"List another environment only through a reviewed change; an empty list forbids every read path.",
		Default: "the infisical block's environment"},
	"config.policy.heroku_apps": {Text: "Heroku apps a handoff may work on, by name. A Heroku token reaches every app " +
		"of the dedicated handoff account, so a spec's `app` must be listed here, and plan refuses to mint while " +
		"the account reaches an app that is neither the spec's nor listed. The default allows none: list the apps " +
		"the handoff account has access to, through a reviewed change.",
		Default: "[]"},
	"config.policy.aws_role_arns": {Text: "IAM roles an `aws` block may assume, by exact ARN, without wildcards: the " +
		"roles an operator prepared for handoffs (docs/vendors/aws.md). Empty by default, so no handoff may assume a " +
		"role until one is listed here through a reviewed change.", Default: "[]"},
	"config.policy.aws_ssm_read_roots": {Text: "SSM parameter paths an `aws` block's `ssm_read` path must equal or lie " +
		"below, such as `/raxx/`; never `/` alone, no wildcard or `..`.", Default: "[]"},
	"config.policy.aws_s3_read_prefixes": {Text: "S3 prefixes, as `arn:aws:s3:::<bucket>/<prefix>/` (no prefix for the " +
		"whole bucket), that an `aws` block's `s3_read` prefix must start with; no wildcard.", Default: "[]"},
	"config.policy.aws_sqs_send_queues": {Text: "SQS queue ARNs an `aws` block's `sqs_send` may name; no wildcard.",
		Default: "[]"},

	// specs/<slug>.hcl
	"handoff": {Text: "One handoff: a task's set of least-privilege, time-bound credentials. The slug is lower-case " +
		"`[a-z0-9-]`, 3 to 63 characters, starts and ends with a letter or digit, is unique across the repository " +
		"and equals the file's name."},
	"handoff.card":        {Text: "Number of the task card the handoff serves; positive. Recorded in the manifest and the plan."},
	"handoff.description": {Text: "What the agent does, in a sentence. Shown in plans; not used for any decision."},
	"handoff.ttl": {Text: "How long the handoff's credentials may live, from the first apply; positive and at most the " +
		"policy's `max_ttl` (never above `24h`). Past it, apply revokes everything. Short-lived tokens (GitHub's " +
		"one hour) are refreshed by scheduled applies within it."},
	"handoff.approved_by": {Text: "Who approved the handoff (a person or a team); not blank. Recorded in the manifest."},

	"handoff.github": {Text: "A GitHub App installation token narrowed at mint time to one repository and the listed " +
		"permissions. It lives one hour (GitHub's fixed expiry) and is refreshed by scheduled applies while the " +
		"handoff lives. Written to the vault as `GH_HANDOFF_TOKEN`. Needs the `github` block of handoff.hcl."},
	"handoff.github.repository": {Text: "The one repository, as `owner/name`, without wildcard or URL, of an owner the " +
		"policy's `github_owners` lists (and matching `github_repositories` when set). The App must be installed on " +
		"it, with it in the installation's repository selection; plan reports a repository or permission the " +
		"installation cannot grant."},
	"handoff.github.permissions": {Text: "Permission name → `read` or `write`, each within the policy's " +
		"`github_permissions`; not empty. Never `administration`, `secrets`, `dependabot_secrets`, `workflows`, an " +
		"organization- or account-wide permission, or `admin`."},

	"handoff.infisical": {Text: "The vault paths the handoff's own machine identity may read, besides its folder " +
		"`<handoff_root>/<slug>/`, which it can always read. The identity's credentials are written to that folder as " +
		"`INFISICAL_CLIENT_ID` and `INFISICAL_CLIENT_SECRET`; its access ends with the TTL."},
	"handoff.infisical.environment": {Text: "Environment slug of the read paths; one of the policy's " +
		"`vault_read_environments`. When omitted, the `environment` of handoff.hcl applies, and must be listed there " +
		"too."},
	"handoff.infisical.read": {Text: "Absolute vault paths, each a folder followed by what to read in it: a secret " +
		"name (`/MooseQuest/queue/staging/API_KEY`), a name prefix ending in a single `*` " +
		"(`/MooseQuest/queue/staging/APPLE_IAP_*`) or `*` for every secret of the folder. Each path lies strictly below " +
		"one of the policy's `vault_read_roots` or the handoff's own folder, never equal to it (write `<root>/*` or " +
		"`<root>/NAME`), and never in another handoff's folder. No `..`, no `**`, not the root. Not empty."},

	"handoff.mcp": {Text: "The MCP tools the orchestrator lets the agent's session call and those it must refuse. " +
		"Nothing is minted; `handoff env` prints the lists for the orchestrator."},
	"handoff.mcp.allow": {Text: "Tool names the agent may call, each by exact name: no wildcard, and not also in " +
		"`exclude`."},
	"handoff.mcp.exclude": {Text: "Tool names the agent must not call, even if another layer would allow them."},

	"handoff.stripe": {Text: "A Stripe restricted key. Restricted keys cannot be minted through Stripe's API, so this " +
		"build hands the task a key provisioned in the dashboard by reference: the handoff's `infisical` read paths " +
		"must reach a `STRIPE_*` secret. Live mode needs a `live_approval` block."},
	"handoff.stripe.mode": {Text: "`test` or `live`. `live` moves real money and is refused without a `live_approval` " +
		"block.", Default: `"test"`},
	"handoff.stripe.permissions": {Text: "Stripe resource (snake case, such as `checkout_sessions`) → `read` or `write`; " +
		"not empty. Recorded in the manifest."},

	"handoff.cloudflare": {Text: "A Cloudflare user API token named `handoff-<slug>`, limited to the listed zones and " +
		"permission groups, expiring with the handoff (or sooner, at the end of its `ttl`, and then refreshed by " +
		"scheduled applies). Written to the vault as `CLOUDFLARE_API_TOKEN`. The provisioner token " +
		"(`CLOUDFLARE_API_TOKEN` in apply's environment) needs API Tokens Write and Zone Read on the zones: see " +
		"docs/vendors/cloudflare.md."},
	"handoff.cloudflare.zones": {Text: "Zone names (`example.com`) or 32-hex-digit zone ids, each listed in the policy's " +
		"`cloudflare_zones`; no wildcard, no duplicate; not empty. Plan refuses a zone the provisioner token does not see."},
	"handoff.cloudflare.permission_groups": {Text: "Zone permission groups by Cloudflare's exact names, such as `DNS Write`, " +
		"each within the policy's `cloudflare_permission_groups`; no wildcard; not empty. Never `Zone Settings Write`, " +
		"`Bot Management Write`, `Zone Write`, or a group that administers API tokens, the account, billing or " +
		"memberships. Plan refuses a group not in Cloudflare's catalogue or not of zones."},
	"handoff.cloudflare.ttl": {Text: "Life of the token; positive and at most the handoff's `ttl`. Shorter, the token is " +
		"minted again before it ends, within the handoff's life.",
		Default: "the handoff's ttl"},
	"handoff.cloudflare.request_ip": {Text: "CIDRs the token may be used from (Cloudflare's `condition.request.ip.in`), " +
		"such as `192.0.2.0/24`; a single address as `/32` or `/128`; no host bits, not `0.0.0.0/0`, not empty. " +
		"When omitted, the token works from any address."},

	"handoff.aws": {Text: "An STS session of a role prepared for handoffs (sts:AssumeRole, with the slug as session name " +
		"and source identity and the session tag `handoff=<slug>`), narrowed by an inline session policy compiled from " +
		"the typed grants and `session_policy`, written to the handoff's folder as `AWS_ACCESS_KEY_ID`, " +
		"`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and `AWS_REGION`. Needs at least one typed grant or " +
		"`session_policy`. The plan shows the compiled policy (`compiled_policy`); revocation denies the handoff's " +
		"sessions on the role (docs/vendors/aws.md)."},
	"handoff.aws.role_arn": {Text: "ARN of the IAM role to assume, `arn:aws:iam::<account>:role/<name>`; one of the " +
		"policy's `aws_role_arns`."},
	"handoff.aws.region": {Text: "AWS region of the session (`AWS_REGION`) and of the `ssm_read` parameters, such as " +
		"`us-east-1`; required with `ssm_read`. Unset, `AWS_REGION` is the provisioner's region."},
	"handoff.aws.ssm_read": {Text: "SSM parameter paths the session may read (ssm:GetParameter, ssm:GetParameters on " +
		"the parameters below the path; ssm:GetParametersByPath on the path and below), such as " +
		"`/raxx/moosequest-queue/`; each at or below one of the policy's `aws_ssm_read_roots`. No wildcard, no `..`, " +
		"not `/` alone."},
	"handoff.aws.s3_read": {Text: "S3 prefixes the session may read, as `arn:aws:s3:::<bucket>/<prefix>/` " +
		"(s3:GetObject below the prefix; s3:ListBucket on the bucket limited to the prefix), each below one of the " +
		"policy's `aws_s3_read_prefixes`. No wildcard."},
	"handoff.aws.sqs_send": {Text: "SQS queue ARNs the session may send to (sqs:SendMessage), each one of the policy's " +
		"`aws_sqs_send_queues`."},
	"handoff.aws.session_policy": {Text: "Escape hatch: an inline IAM policy document (JSON, as a string) whose " +
		"statements are added to the compiled session policy. An `Allow` statement may not use `NotAction`, `*` or " +
		"`service:*`; statements take only Sid, Effect, Action, NotAction, Resource, NotResource and Condition. Any " +
		"change of it is an escalation (\"session policy changed\"). The whole compiled policy must fit STS's " +
		"2,048 characters and packed size."},
	"handoff.aws.duration": {Text: "Length of one session: from `15m` to `1h`, and at most the handoff's `ttl`; " +
		"scheduled applies refresh it ahead of its expiry. A session is cut to what is left of the handoff, but never " +
		"under STS's 15 minutes.", Default: `"1h"`},

	"handoff.heroku": {Text: "A Heroku OAuth authorization of the dedicated handoff account (`HEROKU_API_KEY` in the " +
		"handoff's folder and session, with the app's name as `HEROKU_APP`), described `handoff <slug>`, with the " +
		"block's scopes and an expiry. Heroku cannot limit a token to one app: it reaches every app of the " +
		"account, which plan reads and refuses when it exceeds the spec's app and the policy's `heroku_apps`."},
	"handoff.heroku.app": {Text: "The app the task works on: its name, 3 to 30 lower-case letters, digits and " +
		"hyphens, starting with a letter and not ending with a hyphen. It must be in the policy's `heroku_apps` " +
		"and within the handoff account's reach."},
	"handoff.heroku.scope": {Text: "OAuth scopes among `identity`, `read`, `write`, `read-protected` and " +
		"`write-protected`; never `global`; not empty. Ask for the narrowest that serves the task: `read` for the " +
		"app without its config vars, `read-protected` to read config vars, `write-protected` to set them."},
	"handoff.heroku.ttl": {Text: "Life of the authorization; positive and at most the handoff's `ttl`. When shorter, " +
		"apply mints a new token ahead of each expiry until the handoff ends.",
		Default: "the handoff's ttl"},

	"handoff.apple_iap": {Text: "App Store Server API access for one app. Such keys are made in App Store Connect, so " +
		"this build hands the task a key by reference: the handoff's `infisical` read paths must reach an " +
		"`APPLE_IAP_*` secret. Production needs a `live_approval` block."},
	"handoff.apple_iap.environment": {Text: "`sandbox` or `production`. `production` is refused without a " +
		"`live_approval` block.", Default: `"sandbox"`},
	"handoff.apple_iap.bundle_id": {Text: "The app's reverse-DNS bundle identifier, such as `com.raxx.trademaster`."},

	"handoff.alpaca": {Text: "Alpaca trading API access. Keys are generated in Alpaca's dashboard, so this build hands " +
		"the task a key by reference: the handoff's `infisical` read paths must reach an `ALPACA_*` secret. Live " +
		"trading needs a `live_approval` block."},
	"handoff.alpaca.mode": {Text: "`paper` or `live`. `live` trades real money and is refused without a " +
		"`live_approval` block.", Default: `"paper"`},

	"handoff.live_approval": {Text: "The recorded operator approval that live or production financial credentials " +
		"need (stripe `mode = \"live\"`, apple_iap `environment = \"production\"`, alpaca `mode = \"live\"`). " +
		"A `live_approval` in a handoff with no live surface is a warning."},
	"handoff.live_approval.by":     {Text: "The operator who approved live access; not blank."},
	"handoff.live_approval.reason": {Text: "Why live access is needed, such as a ticket; not blank."},
}
