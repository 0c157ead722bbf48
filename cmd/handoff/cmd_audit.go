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
			"(H5: every access names the task). Every handoff folder when no SLUG is given. When the vault's\n" +
			"log holds no event at all (its plan keeps none), says so on stderr and in -json's warnings.\n" +
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
			start, end := now.Add(-c.Duration("since")), now.Add(time.Minute)
			records := []auditRecord{}
			asked, vaultRows := 0, 0
			var lastWrite time.Time // apply's last write of a manifest in the window
			for _, slug := range slugs {
				lh := live.Handoffs[slug]
				if lh == nil || lh.Manifest == nil {
					fmt.Fprintf(e.stderr, "handoff audit: %s: no valid manifest in %s\n", slug, handoffFolder(ws, slug))
					continue
				}
				m := lh.Manifest
				if !m.UpdatedAt.Before(start) && m.UpdatedAt.After(lastWrite) {
					lastWrite = m.UpdatedAt
				}
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
					Start: start, End: end, Limit: 1000})
				if err != nil {
					return exitf(exitError, "handoff audit: %s: reading the vault's audit log: %v", slug, err)
				}
				asked++
				vaultRows += len(entries)
				for _, en := range entries {
					records = append(records, auditRecord{At: en.CreatedAt.UTC(), Slug: slug, Source: "infisical",
						Actor: cmp.Or(en.ActorName, en.ActorID), Action: en.EventType, Detail: auditDetail(en.EventMetadata)})
				}
			}
			warnings := []string{}
			if asked > 0 && vaultRows == 0 {
				w, err := auditLogWarning(c, inf, ws.Settings.ProjectID, start, end, now, lastWrite)
				if err != nil {
					return exitf(exitError, "handoff audit: reading the vault's audit log: %v", err)
				}
				if w != "" {
					warnings = append(warnings, w)
					fmt.Fprintf(e.stderr, "handoff audit: warning: %s\n", w)
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
					Warnings      []string      `json:"warnings"`
				}{1, records, warnings})
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

// auditLogWarning says, when the vault's audit log holds no event at all
// in [start, end] (one request, made only when no handoff's identity had
// any), that the vault keeps none: Infisical answers 200 with an empty
// list when its plan keeps no audit log (an unlicensed self-hosted server
// does). It is sure of it when apply wrote a manifest in the window, at
// lastWrite, more than a minute ago (the log is written asynchronously).
// "" when the log holds events: the identities simply read nothing.
func auditLogWarning(c *cli.Context, inf *infisical.Client, project string, start, end, now, lastWrite time.Time) (string, error) {
	events, err := inf.AuditLogs(c.Context, infisical.AuditFilter{ProjectID: project, Start: start, End: end, Limit: 1})
	if err != nil || len(events) > 0 {
		return "", err
	}
	const noLog = "an Infisical server whose plan keeps none, an unlicensed self-hosted one among them, answers 200 with an empty list"
	const own = "handoff's own record, the manifests' history (source manifest, H5), does not depend on it"
	since := start.UTC().Format(time.RFC3339)
	if !lastWrite.IsZero() && lastWrite.Before(now.Add(-time.Minute)) {
		return fmt.Sprintf("the vault's audit log holds no event at all since %s, not even the writes of handoff apply (the last at %s): this Infisical server keeps no audit log (%s). What the handoffs' identities read is recorded nowhere; %s and is the only audit trail",
			since, lastWrite.UTC().Format(time.RFC3339), noLog, own), nil
	}
	return fmt.Sprintf("the vault's audit log holds no event at all since %s: either nothing happened in the project, or this Infisical server keeps no audit log (%s); %s",
		since, noLog, own), nil
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
