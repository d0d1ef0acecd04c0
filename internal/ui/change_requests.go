package ui

import (
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// changeSection is the change-request part of an organisation's page:
// the form of those who may file one, and the organisation's requests.
type changeSection struct {
	MayRequest bool
	Add        string // the form as typed, after a refused post
	Remove     string
	Note       string
	Error      string
	Requests   []*focal.ChangeRequest
	MaxNote    int
}

// changeSectionFor builds the change-request part of organisation id's
// page for the caller.
func (h *handlers) changeSectionFor(r *http.Request, id int64) (changeSection, error) {
	sec := changeSection{MaxNote: focal.MaxChangeNote}
	if !may(r, focal.ActionRead, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: id}) {
		return sec, nil
	}
	sec.MayRequest = may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: id})
	list, err := h.store.ChangeRequests(r.Context(), store.ChangeFilter{OrgID: id, Limit: 20})
	if err != nil {
		return sec, err
	}
	sec.Requests = list
	return sec, nil
}

// changeCreate serves POST /organisations/{id}/change-requests: a
// constituent asks to add or remove networks, AS numbers and domains.
// A refused request shows the organisation's page again with the form
// as typed and the reason.
func (h *handlers) changeCreate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if !may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: id}) {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such page"))
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	form := changeSection{Add: r.PostForm.Get("add"), Remove: r.PostForm.Get("remove"), Note: r.PostForm.Get("note")}
	c := &focal.ChangeRequest{OrgID: id, Note: form.Note}
	c.Add, err = focal.ParseHoldings("add", form.Add)
	if err == nil {
		c.Remove, err = focal.ParseHoldings("remove", form.Remove)
	}
	if err == nil {
		err = h.store.RequestChange(r.Context(), c)
	}
	if err != nil {
		if focal.ErrorCode(err) != focal.EINVALID {
			h.error(w, r, err)
			return
		}
		form.Error = focal.ErrorMessage(err)
		h.orgDetailWith(w, r, id, http.StatusBadRequest, &form)
		return
	}
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(id, 10), "requested")+"#change-request")
}

// changeListPage is the data of the change requests page.
type changeListPage struct {
	base
	State     string
	States    []string
	Requests  []*focal.ChangeRequest
	MayDecide bool
}

// changeList serves GET /change-requests?state=: the requests to change
// organisations' holdings, pending first by default; coordinators decide
// them here.
func (h *handlers) changeList(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	switch state {
	case "":
		state = focal.ChangePending
	case "all", focal.ChangePending, focal.ChangeApproved, focal.ChangeRejected, focal.ChangeWithdrawn:
	default:
		h.error(w, r, focal.FieldErrorf("state", "unknown state %q", state))
		return
	}
	f := store.ChangeFilter{State: state, Limit: 200}
	if state == "all" {
		f.State = ""
	}
	list, err := h.store.ChangeRequests(r.Context(), f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "change_requests", changeListPage{
		base: h.base(r, "Change requests"), State: state, Requests: list,
		States:    []string{focal.ChangePending, focal.ChangeApproved, focal.ChangeRejected, focal.ChangeWithdrawn, "all"},
		MayDecide: may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindChange}),
	})
}

// changeDecide serves POST /change-requests/{id}/decide: a coordinator
// approves (the organisation changes at once) or rejects, with a note.
func (h *handlers) changeDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	var approve bool
	switch r.PostForm.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		h.error(w, r, focal.FieldErrorf("decision", "want approve or reject"))
		return
	}
	if _, err := h.store.DecideChange(r.Context(), id, approve, strings.TrimSpace(r.PostForm.Get("note"))); err != nil {
		h.error(w, r, err)
		return
	}
	if approve {
		h.constituencyChanged()
	}
	redirect(w, r, withNotice("/change-requests", "decided"))
}

// changeWithdraw serves POST /change-requests/{id}/withdraw: the
// requester's organisation takes a pending request back.
func (h *handlers) changeWithdraw(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	c, err := h.store.ChangeRequest(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.WithdrawChange(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(c.OrgID, 10), "withdrawn")+"#change-request")
}
