package ui

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// attachmentRow is one attachment as an incident's pages list it.
type attachmentRow struct {
	ID          int64
	Name        string
	Size        string // e.g. "1.2 MiB"
	ContentType string
	SHA256      string
	TLP         focal.TLP
	TLPClass    string
	At          time.Time
}

// uploadForm is the attachment form as typed.
type uploadForm struct {
	TLP string
}

// taskRow is one task of an incident.
type taskRow struct {
	ID    int64
	Title string
	Owner string // "" for nobody
	Due   time.Time
	Done  time.Time // zero: open
	Late  bool      // open and past its due date
}

// taskForm is the form adding a task, as typed.
type taskForm struct {
	Title string
	Due   string // datetime-local, UTC: 2006-01-02T15:04
	Owner string // "me", "" for nobody, or an account id
}

// mergeForm is the form merging an incident into another, as typed.
type mergeForm struct {
	Into string // the survivor's reference, e.g. FOC-2026-000042
}

// addWork puts incident page's attachments (unless the category is
// restricted: they are on the content page), tasks and the forms to add
// them into page; people are the accounts the caller may assign.
func (h *handlers) addWork(r *http.Request, page *incidentDetailPage, people []personOption) error {
	ctx := r.Context()
	i := page.Inc
	if !page.Restricted {
		rows, err := h.attachmentRows(r, i)
		if err != nil {
			return err
		}
		page.Attachments = rows
	}
	tasks, err := h.store.Tasks(ctx, i.ID)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, t := range tasks {
		page.Tasks = append(page.Tasks, taskRow{
			ID: t.ID, Title: t.Title, Owner: assigneeName(t.OwnerID, page.Self, people), Due: t.Due, Done: t.Done,
			Late: t.Done.IsZero() && !t.Due.IsZero() && t.Due.Before(now),
		})
	}
	page.MayUpload = page.MayUpdate && h.files != nil
	page.Upload = uploadForm{TLP: string(i.TLP)}
	page.Task = taskForm{Owner: "me"}
	return nil
}

// attachmentRows lists incident i's attachments the caller may read: a
// constituent does not see a file labelled above what it may read.
func (h *handlers) attachmentRows(r *http.Request, i *focal.Incident) ([]attachmentRow, error) {
	list, err := h.store.Attachments(r.Context(), i.ID)
	if err != nil {
		return nil, err
	}
	var rows []attachmentRow
	for _, a := range list {
		if !mayReadAttachment(r, i, &a) {
			continue
		}
		rows = append(rows, attachmentRow{
			ID: a.ID, Name: a.Name, Size: byteSize(a.Size), ContentType: a.ContentType, SHA256: a.SHA256,
			TLP: a.TLP, TLPClass: tlpClass(a.TLP), At: a.CreatedAt,
		})
	}
	return rows, nil
}

// mayReadAttachment reports whether the caller may read attachment a of
// incident i, whose TLP may be stricter than the incident's.
func mayReadAttachment(r *http.Request, i *focal.Incident, a *store.Attachment) bool {
	return may(r, focal.ActionRead, focal.Resource{Kind: focal.KindIncident, OrgID: i.OrgID, TLP: a.TLP, Restricted: i.Restricted()})
}

// byteSize shows a size in bytes, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// incidentPath is the path of incident id's page.
func incidentPath(id int64) string {
	return "/incidents/" + strconv.FormatInt(id, 10)
}

// incidentByRef resolves a reference such as FOC-2026-000042 to an
// incident id the caller may see; field names the form field.
func (h *handlers) incidentByRef(ctx context.Context, field, ref string) (int64, error) {
	if ref == "" {
		return 0, focal.FieldErrorf(field, "write the reference of the incident, e.g. FOC-2026-000042")
	}
	id, err := h.store.IncidentIDByRef(ctx, ref)
	if err == nil {
		// The lookup does not check visibility: an incident the caller
		// may not see is as unknown as one that does not exist.
		_, err = h.store.Incident(ctx, id)
	}
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		return 0, focal.FieldErrorf(field, "no incident %s", ref)
	}
	return id, err
}
