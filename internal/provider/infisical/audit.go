package infisical

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuditFilter selects audit-log entries of the organization. Zero fields do
// not filter. Note that an unlicensed server may keep no audit log at all
// (it answers an empty list): handoff keeps its own trail as well.
type AuditFilter struct {
	// ActorID is the id of the identity (or user) that acted.
	ActorID string
	// EventTypes are kebab-case event types ("get-secret", "get-secrets", …).
	EventTypes []string
	// ProjectID and Environment narrow to one project and environment.
	ProjectID, Environment string
	SecretPath             string
	// Start and End bound the time (server defaults: last midnight, now).
	Start, End time.Time
	// Limit is the page size (server default 20, at most 1000); Offset skips.
	Limit, Offset int
}

// AuditEntry is one audit-log record.
type AuditEntry struct {
	ID        string
	EventType string
	// EventMetadata is the event's raw metadata (secret path, key, …;
	// never a value).
	EventMetadata json.RawMessage
	ActorType     string
	// ActorID is the identity or user id from the actor's metadata.
	ActorID   string
	ActorName string
	ProjectID string
	IPAddress string
	UserAgent string
	CreatedAt time.Time
}

type wireAudit struct {
	ID        string    `json:"id"`
	IPAddress *string   `json:"ipAddress"`
	UserAgent *string   `json:"userAgent"`
	ProjectID *string   `json:"projectId"`
	CreatedAt time.Time `json:"createdAt"`
	Event     struct {
		Type     string          `json:"type"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"event"`
	Actor struct {
		Type     string          `json:"type"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"actor"`
}

// actorMeta is what handoff reads of an actor's metadata (its shape varies
// with the actor type, so it is decoded leniently).
type actorMeta struct {
	IdentityID string `json:"identityId"`
	UserID     string `json:"userId"`
	Name       string `json:"name"`
	Email      string `json:"email"`
}

// AuditLogs returns one page of the organization's audit log (the
// organization is the one of the calling identity's token).
func (c *Client) AuditLogs(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	const op = "read audit logs"
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("actor", f.ActorID)
	set("eventType", strings.Join(f.EventTypes, ","))
	set("projectId", f.ProjectID)
	set("environment", f.Environment)
	set("secretPath", f.SecretPath)
	if !f.Start.IsZero() {
		q.Set("startDate", f.Start.UTC().Format(time.RFC3339))
	}
	if !f.End.IsZero() {
		q.Set("endDate", f.End.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(f.Limit, 1000)))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var out struct {
		AuditLogs []wireAudit `json:"auditLogs"`
	}
	if err := c.do(ctx, &call{op: op, method: http.MethodGet, path: "/api/v1/organization/audit-logs", query: q}, &out); err != nil {
		return nil, err
	}
	res := make([]AuditEntry, 0, len(out.AuditLogs))
	for _, w := range out.AuditLogs {
		var am actorMeta
		_ = json.Unmarshal(w.Actor.Metadata, &am)
		e := AuditEntry{ID: w.ID, EventType: w.Event.Type, EventMetadata: w.Event.Metadata, ActorType: w.Actor.Type,
			ActorID: am.IdentityID, ActorName: am.Name, CreatedAt: w.CreatedAt}
		if e.ActorID == "" {
			e.ActorID = am.UserID
		}
		if e.ActorName == "" {
			e.ActorName = am.Email
		}
		e.IPAddress = deref(w.IPAddress)
		e.UserAgent = deref(w.UserAgent)
		e.ProjectID = deref(w.ProjectID)
		res = append(res, e)
	}
	return res, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
