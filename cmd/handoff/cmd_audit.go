package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/provider/infisical"
)

func init() { register(auditCommand) }

func auditCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "audit",
		Usage:     "print the audit records of handoffs (who, what, when; never a secret)",
		ArgsUsage: "[SLUG...]",
		Description: "Joins, per handoff, the history its manifest keeps (every create, refresh, revoke, with\n" +
			"fingerprints, never values) and the vault's audit log of what the handoff's own identity read\n" +
			"(H5: every access names the task). Every handoff folder when no SLUG is given.\n" +
			"Exit status: 0, 1.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the records as JSON on stdout"},
			&cli.DurationFlag{Name: "since", Value: 7 * 24 * time.Hour, Usage: "how far back to read the vault's audit log, a `DURATION`"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			ws, err := e.loadWorkspace(c, "audit", c.String("chdir"))
			if err != nil {
				return err
			}
			inf, err := ws.Infisical()
			if err != nil {
				return exitf(exitError, "handoff audit: %v", err)
			}
			live, err := ws.ReadState(c.Context)
			if err != nil {
				return exitf(exitError, "handoff audit: reading live state: %v", err)
			}
			slugs := c.Args().Slice()
			if len(slugs) == 0 {
				slugs = live.Slugs()
			}
			now := ws.Now()
			records := []auditRecord{}
			for _, slug := range slugs {
				lh := live.Handoffs[slug]
				if lh == nil || lh.Manifest == nil {
					fmt.Fprintf(e.stderr, "handoff audit: %s: no valid manifest in %s\n", slug, handoffFolder(ws, slug))
					continue
				}
				m := lh.Manifest
				for _, ev := range m.History {
					records = append(records, auditRecord{At: ev.At.UTC(), Slug: slug, Source: "manifest", Actor: "handoff apply",
						Action: string(ev.Action), Surface: ev.Surface, Detail: ev.Detail})
				}
				if r := m.Revocation; r != nil {
					records = append(records, auditRecord{At: r.At.UTC(), Slug: slug, Source: "manifest", Actor: cmp.Or(r.By, "handoff apply"),
						Action: "revocation:" + string(r.Kind), Surface: strings.Join(r.Surfaces, ","), Detail: r.Reason})
				}
				id := infsurface.Decode(m.Surfaces[infsurface.Name])
				if id == nil || id.IdentityID == "" {
					continue
				}
				entries, err := inf.AuditLogs(c.Context, infisical.AuditFilter{ActorID: id.IdentityID, ProjectID: ws.Settings.ProjectID,
					Start: now.Add(-c.Duration("since")), End: now.Add(time.Minute), Limit: 1000})
				if err != nil {
					return exitf(exitError, "handoff audit: %s: reading the vault's audit log: %v", slug, err)
				}
				for _, en := range entries {
					records = append(records, auditRecord{At: en.CreatedAt.UTC(), Slug: slug, Source: "infisical",
						Actor: cmp.Or(en.ActorName, en.ActorID), Action: en.EventType, Detail: auditDetail(en.EventMetadata)})
				}
			}
			// By the second (what is printed); within one, each handoff's
			// history keeps its own order.
			sort.SliceStable(records, func(i, j int) bool {
				ti, tj := records[i].At.Truncate(time.Second), records[j].At.Truncate(time.Second)
				if !ti.Equal(tj) {
					return ti.Before(tj)
				}
				return records[i].Slug < records[j].Slug
			})
			if c.Bool("json") {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					FormatVersion int           `json:"format_version"`
					Records       []auditRecord `json:"records"`
				}{1, records})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tHANDOFF\tSOURCE\tACTOR\tACTION\tSURFACE\tDETAIL")
			for _, r := range records {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.Format(time.RFC3339), r.Slug, r.Source, r.Actor, r.Action, cmp.Or(r.Surface, "-"), r.Detail)
			}
			return tw.Flush()
		},
	}
}

// auditRecord is one line of `handoff audit`.
type auditRecord struct {
	At      time.Time `json:"at"`
	Slug    string    `json:"slug"`
	Source  string    `json:"source"` // manifest or infisical
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Surface string    `json:"surface,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// auditDetail renders the vault event's metadata that says what was read:
// environment, path and key (the audit log holds no value).
func auditDetail(raw json.RawMessage) string {
	var md map[string]any
	if json.Unmarshal(raw, &md) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"environment", "secretPath", "secretKey", "numberOfSecrets"} {
		if v, ok := md[k]; ok && fmt.Sprint(v) != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}
