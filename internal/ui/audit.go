package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// auditPageSize is how many records the audit page shows at once.
const auditPageSize = 50

// auditPage is the data of the audit log page.
type auditPage struct {
	base
	Actor, Action, ObjectType, ObjectID string
	Records                             []auditRow
	OlderURL                            string // "" on the last page
	NewestURL                           string // "" on the first page
}

// auditRow is an audit record with its JSON made readable.
type auditRow struct {
	focal.AuditRecord
	BeforeJSON, AfterJSON string
}

// audit serves GET /audit: the audit log, newest first, filtered by actor,
// action, object type and object id, paged with ?before=<id>.
func (h *handlers) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := auditPage{
		base:  h.base(r, "Audit log"),
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")),
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			h.error(w, r, focal.FieldErrorf("before", "want a record number, got %q", s))
			return
		}
		before = n
	}
	recs, err := h.store.AuditRecords(r.Context(), store.AuditFilter{
		Actor: page.Actor, Action: page.Action, ObjectType: page.ObjectType, ObjectID: page.ObjectID,
		BeforeID: before, Limit: auditPageSize,
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, rec := range recs {
		page.Records = append(page.Records, auditRow{AuditRecord: rec, BeforeJSON: indentJSON(rec.Before), AfterJSON: indentJSON(rec.After)})
	}
	if len(recs) == auditPageSize {
		page.OlderURL = page.url(recs[len(recs)-1].ID)
	}
	if before > 0 {
		page.NewestURL = page.url(0)
	}
	h.render(w, r, http.StatusOK, "audit", page)
}

// url returns the audit URL with the current filters, before id (0: none).
func (p auditPage) url(before int64) string {
	v := url.Values{}
	for k, s := range map[string]string{"actor": p.Actor, "action": p.Action, "object_type": p.ObjectType, "object_id": p.ObjectID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}

// indentJSON pretty-prints a stored JSON document, or returns it as it is
// when it does not parse.
func indentJSON(s string) string {
	if s == "" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}
