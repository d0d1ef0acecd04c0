package ui

import (
	"net/http"
	"time"

	"focal/internal/focal"
)

// livePath is the live view of an organisation's new events.
const livePath = "/live"

// livePage is the data of the live view: the newest events, to which the
// page's script adds each new one the stream delivers.
type livePage struct {
	base
	Events []*focal.Event
}

// live serves GET /live: a constituent's view of its organisation's
// events as they are stored. The page lists the newest events; live.js
// follows GET /api/v1/my/stream (Server-Sent Events, resumed with
// Last-Event-ID by the browser) and adds each new event at the top.
// Without JavaScript it is the list of the newest events.
func (h *handlers) live(w http.ResponseWriter, r *http.Request) {
	p := focal.PrincipalFromContext(r.Context())
	if p.Role != focal.RoleConstituent || p.OrgID == 0 {
		h.error(w, r, focal.Errorf(focal.EFORBIDDEN, "the live view follows one organisation's events; staff use the events explorer"))
		return
	}
	list, _, err := h.store.Events(r.Context(), focal.EventFilter{Since: time.Now().AddDate(0, 0, -7), Limit: 50})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "live", livePage{base: h.base(r, "Live events"), Events: list})
}
