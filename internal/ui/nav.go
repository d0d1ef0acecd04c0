package ui

import (
	"strconv"
	"strings"

	"focal/internal/focal"
)

// navItem is one entry of the navigation bar.
type navItem struct {
	Label   string
	Path    string
	Current bool // the page shown is this item or below it
}

// navFor returns the navigation entries p may reach, marking the one that
// contains path. Visibility is focal.Authorize on the entry's kind: the
// menu follows the policy instead of restating it.
func navFor(p focal.Principal, path string) []navItem {
	entries := []struct {
		label, path string
		kind        focal.Kind
		action      focal.Action // "" means read
	}{
		{"Dashboard", "/", focal.KindDashboard, ""},
		{"Incidents", "/incidents", focal.KindIncident, ""},
		{"Quarantine", "/quarantine", focal.KindIncident, focal.ActionUpdate},
		{"SLA", "/sla", focal.KindIncident, ""},
		{"Events", "/events", focal.KindEvent, ""},
		{"Live", livePath, focal.KindEvent, ""},
		{"Notifications", notificationsPath, focal.KindOrganisation, ""},
		{"Feeds", "/feeds", focal.KindFeed, ""},
		{"Advisories", "/advisories", focal.KindAdvisory, ""},
		{"Sharing", "/sharing", focal.KindSharing, ""},
		{"Focal points", "/federation", focal.KindSharing, ""},
		{"Organisations", "/organisations", focal.KindOrganisation, ""},
		{"Change requests", "/change-requests", focal.KindChange, ""},
		{"Assessments", "/assess", focal.KindAssessment, ""},
		{"Users", "/users", focal.KindUser, ""},
		{"Audit log", "/audit", focal.KindAudit, ""},
		{"Account", "/account", focal.KindSelf, ""},
		// Everyone may report; anonymous visitors get the link outside
		// the navigation bar, which is for accounts.
		{"Report an incident", "/report", focal.KindReport, ""},
	}
	if p.IsAnonymous() {
		return nil
	}
	var out []navItem
	for _, e := range entries {
		action := e.action
		if action == "" {
			action = focal.ActionRead
		}
		if focal.Authorize(p, action, focal.Resource{Kind: e.kind, OwnerID: p.UserID}) != nil {
			continue
		}
		// The notification log is narrower than its kind.
		if e.path == notificationsPath && !focal.MayReadNotifications(p) {
			continue
		}
		// Change requests are reviewed by staff; a constituent sees its
		// own on its organisation's page.
		if e.path == "/change-requests" && !p.Role.Staff() {
			continue
		}
		// The live stream is an organisation's own.
		if e.path == livePath && (p.Role != focal.RoleConstituent || p.OrgID == 0) {
			continue
		}
		label, to := e.label, e.path
		if e.path == "/organisations" && p.Role == focal.RoleConstituent && p.OrgID != 0 {
			label, to = "My organisation", "/organisations/"+strconv.FormatInt(p.OrgID, 10)
		}
		current := path == to || strings.HasPrefix(path, to+"/")
		if e.path == "/" {
			current = path == "/"
		}
		out = append(out, navItem{Label: label, Path: to, Current: current})
	}
	return out
}
