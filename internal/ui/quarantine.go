package ui

import (
	"net/http"
	"time"
)

// maxQuarantineRows bounds the quarantine list.
const maxQuarantineRows = 200

// quarantineRow is one quarantined intake item.
type quarantineRow struct {
	ID       int64
	At       time.Time
	Source   string
	Sender   string
	Reason   string
	Size     string
	SHA256   string
	Resolved bool
}

// quarantinePage is the data of the quarantine list.
type quarantinePage struct {
	base
	Items []quarantineRow
	Max   int
}

// quarantine serves GET /quarantine: intake that could not be processed
// (an e-mail that did not parse, a file refused), newest first, for those
// who work incidents. The raw bytes stay in the data directory.
func (h *handlers) quarantine(w http.ResponseWriter, r *http.Request) {
	items, err := h.store.QuarantineItems(r.Context(), maxQuarantineRows)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := quarantinePage{base: h.base(r, "Quarantine"), Max: maxQuarantineRows}
	for _, q := range items {
		page.Items = append(page.Items, quarantineRow{
			ID: q.ID, At: q.At, Source: q.Source, Sender: q.Sender, Reason: q.Reason,
			Size: byteSize(q.Size), SHA256: q.SHA256, Resolved: q.Resolved,
		})
	}
	h.render(w, r, http.StatusOK, "quarantine", page)
}
