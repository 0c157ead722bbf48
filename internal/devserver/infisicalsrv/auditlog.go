package infisicalsrv

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// auditRetention is how long an event is said to be kept (expiresAt).
const auditRetention = 90 * 24 * time.Hour

// userAgentType is getUserAgentType of Infisical's audit-log plugin.
func userAgentType(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "infisical-cli"):
		return "cli"
	case strings.Contains(l, "k8-operator"):
		return "k8-operator"
	case strings.Contains(l, "terraform"):
		return "terraform"
	case strings.Contains(l, "infisical-go-sdk"), strings.Contains(l, "infisicalsdk"):
		return "InfisicalGoSDK"
	case strings.HasPrefix(l, "mozilla"):
		return "web"
	}
	return "other"
}

// recordAudit appends an event done by a (c.actor when nil). The caller
// holds s.mu (read or write): the project name is looked up in the state.
func (s *Server) recordAudit(c *call, a *actor, projectID, eventType string, meta map[string]any) {
	if a == nil {
		a = c.actor
	}
	if a == nil {
		return
	}
	if meta == nil {
		meta = map[string]any{}
	}
	entry := &auditLog{
		ID: newUUID(), IPAddress: c.ip.String(), UserAgent: c.userAgent(), UserAgentType: userAgentType(c.userAgent()),
		CreatedAt: c.now, UpdatedAt: c.now, OrgID: a.orgID,
		Event: auditEvent{Type: eventType, Metadata: meta},
		Actor: auditActor{Type: "identity", Metadata: map[string]any{"identityId": a.identityID, "name": a.identityName}},
	}
	exp := c.now.Add(auditRetention)
	entry.ExpiresAt = &exp
	if projectID != "" {
		pid := projectID
		entry.ProjectID = &pid
		if p := s.st.projects[projectID]; p != nil {
			name := p.Name
			entry.ProjectName = &name
		}
	}
	s.auditMu.Lock()
	s.audit.push(entry)
	s.auditMu.Unlock()
}

var auditLogQuery = object(
	field("projectId", str().trimmed().opt()),
	field("environment", str().trimmed().opt()),
	field("actorType", enum("user", "identity", "service", "platform", "unknownUser", "scimClient", "acmeAccount", "acmeProfile", "estAccount", "kmipClient").opt()),
	field("secretPath", str().opt()),
	field("secretKey", str().opt()),
	field("eventType", str().opt()),
	field("userAgentType", str().opt()),
	field("eventMetadata", str().opt()),
	field("startDate", dateTime().opt()),
	field("endDate", dateTime().opt()),
	field("offset", coerceNum().gte(0).opt()),
	field("limit", coerceNum().gte(1).lte(1000).opt()),
	field("actor", str().opt()),
)

// listAuditLogs is GET /api/v1/organization/audit-logs.
func (s *Server) listAuditLogs(c *call) (any, *apiError) {
	q, verr := c.validateQuery(auditLogQuery)
	if verr != nil {
		return nil, verr
	}
	start := time.Date(c.now.Year(), c.now.Month(), c.now.Day(), 0, 0, 0, 0, time.UTC)
	end := c.now
	if v, ok := getString(q, "startDate", true); ok {
		start, _ = parseISOTime(v)
	}
	if v, ok := getString(q, "endDate", true); ok {
		end, _ = parseISOTime(v)
	}
	if end.Before(start) {
		return nil, errValidation([]zodIssue{customIssue([]any{"endDate"}, "End date cannot be before start date")})
	}
	if end.Sub(start) > 92*24*time.Hour {
		return nil, errValidation([]zodIssue{customIssue([]any{"endDate"}, "Dates must be within 3 months")})
	}
	offset, limit := 0, 20
	if f, ok := getNumber(q, "offset"); ok {
		offset = int(f)
	}
	if f, ok := getNumber(q, "limit"); ok {
		limit = int(f)
	}
	s.mu.RLock()
	ab := s.orgAbility(c.actor)
	s.mu.RUnlock()
	if err := ab.require(actRead, subAuditLogs, nil); err != nil {
		return nil, err
	}
	filter := func(e *auditLog) bool {
		if e.OrgID != c.actor.orgID {
			return false
		}
		if e.CreatedAt.Before(start) || e.CreatedAt.After(end) {
			return false
		}
		if v, ok := getString(q, "projectId", true); ok && (e.ProjectID == nil || *e.ProjectID != v) {
			return false
		}
		if v, ok := getString(q, "actorType", true); ok && e.Actor.Type != v {
			return false
		}
		if v, ok := getString(q, "actor", true); ok && fmt.Sprint(e.Actor.Metadata["identityId"]) != v {
			return false
		}
		if v, ok := getString(q, "userAgentType", true); ok && e.UserAgentType != v {
			return false
		}
		for key, name := range map[string]string{"environment": "environment", "secretPath": "secretPath", "secretKey": "secretKey"} {
			if v, ok := getString(q, key, false); ok && fmt.Sprint(e.Event.Metadata[name]) != v {
				return false
			}
		}
		if v, ok := getString(q, "eventType", true); ok && v != "" {
			if !contains(splitTrim(v, ","), e.Event.Type) {
				return false
			}
		}
		if v, ok := getString(q, "eventMetadata", true); ok && v != "" {
			for _, pair := range splitTrim(v, ",") {
				k, val, _ := strings.Cut(pair, "=")
				if fmt.Sprint(e.Event.Metadata[strings.TrimSpace(k)]) != strings.TrimSpace(val) {
					return false
				}
			}
		}
		return true
	}
	s.auditMu.Lock()
	var matched []*auditLog
	s.audit.each(func(e *auditLog) {
		if filter(e) {
			matched = append(matched, e)
		}
	})
	s.auditMu.Unlock()
	// Newest first; among events of the same instant, the later recorded first.
	for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
		matched[i], matched[j] = matched[j], matched[i]
	}
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].CreatedAt.After(matched[j].CreatedAt) })
	if offset > len(matched) {
		offset = len(matched)
	}
	matched = matched[offset:]
	if limit < len(matched) {
		matched = matched[:limit]
	}
	if matched == nil {
		matched = []*auditLog{}
	}
	return map[string]any{"auditLogs": matched}, nil
}

func splitTrim(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
