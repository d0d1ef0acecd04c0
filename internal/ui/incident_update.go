package ui

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// incidentUpdate serves POST /incidents/{id}: one of the handling forms
// (status, triage, assignment, organisation). Fields the form does not
// post stay as they are. It goes back to the incident's page, or shows it
// again with the error next to the field.
func (h *handlers) incidentUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	i, err := h.store.Incident(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	cf := parseChangeForm(r, i)
	ch, err := h.incidentChange(r, i, cf)
	if err == nil {
		_, err = h.store.UpdateIncident(ctx, id, ch)
	}
	if err != nil {
		fe, ok := incidentFieldError(err)
		if !ok {
			h.error(w, r, err)
			return
		}
		h.showIncident(w, r, id, http.StatusBadRequest, fe, &cf, nil)
		return
	}
	redirect(w, r, withNotice("/incidents/"+strconv.FormatInt(id, 10), "saved"))
}

// parseChangeForm reads the posted handling fields over incident i's
// current values.
func parseChangeForm(r *http.Request, i *focal.Incident) changeForm {
	cf := changeForm{
		WaitingOn: i.WaitingOn, Classification: primaryClass(i.Classifications), Severity: string(i.Severity),
		TLP: string(i.TLP), PAP: string(i.PAP), Assignee: strconv.FormatInt(i.AssigneeID, 10), Org: strconv.FormatInt(i.OrgID, 10),
	}
	for name, dst := range map[string]*string{
		"status": &cf.Status, "waiting_on": &cf.WaitingOn, "classification": &cf.Classification, "severity": &cf.Severity,
		"tlp": &cf.TLP, "pap": &cf.PAP, "assignee": &cf.Assignee, "org": &cf.Org,
	} {
		if r.PostForm.Has(name) {
			*dst = formValue(r, name)
		}
	}
	return cf
}

// incidentChange turns the posted fields into a change of incident i,
// leaving out what is as it was, and checks what the store cannot say in
// the user's terms: the lifecycle and whom one may assign.
func (h *handlers) incidentChange(r *http.Request, i *focal.Incident, cf changeForm) (store.IncidentChange, error) {
	p := focal.PrincipalFromContext(r.Context())
	v := r.PostForm
	var ch store.IncidentChange
	// The classification comes first: triaging needs it.
	if v.Has("classification") && cf.Classification != primaryClass(i.Classifications) {
		if cf.Classification == "" {
			return ch, focal.FieldErrorf("classification", "choose a classification; an incident cannot be unclassified again")
		}
		c, err := parseClassification("classification", cf.Classification)
		if err != nil {
			return ch, err
		}
		list := []focal.Classification{c}
		for n, old := range i.Classifications {
			if n > 0 && (old.Class != c.Class || old.Type != c.Type) {
				list = append(list, old)
			}
		}
		ch.Classifications = list
	}
	if cf.Status != "" {
		st, err := focal.ParseStatus(cf.Status)
		if err != nil {
			return ch, focal.FieldErrorf("status", "choose a status from the list")
		}
		if st != i.Status {
			if !focal.CanTransition(i.Status, st) {
				return ch, transitionError(i.Status, st)
			}
			ch.Status, ch.WaitingOn = &st, cf.WaitingOn
		}
	}
	if v.Has("severity") {
		sev, err := focal.ParseSeverity(cf.Severity)
		if err != nil {
			return ch, focal.FieldErrorf("severity", "choose a severity from the list")
		}
		if sev != i.Severity {
			ch.Severity = &sev
		}
	}
	if v.Has("tlp") {
		t, err := focal.ParseTLP(cf.TLP)
		if err != nil {
			return ch, focal.FieldErrorf("tlp", "choose a TLP label from the list")
		}
		if t != i.TLP {
			ch.TLP = &t
		}
	}
	if v.Has("pap") {
		pap, err := focal.ParsePAP(cf.PAP)
		if err != nil {
			return ch, focal.FieldErrorf("pap", "choose a PAP label from the list")
		}
		if pap != i.PAP {
			ch.PAP = &pap
		}
	}
	if v.Has("assignee") {
		id, err := h.assigneeID(r, cf.Assignee, p)
		if err != nil {
			return ch, err
		}
		if id != i.AssigneeID {
			ch.AssigneeID = &id
		}
	}
	if v.Has("org") {
		id, err := strconv.ParseInt(cmp.Or(cf.Org, "0"), 10, 64)
		if err != nil || id < 0 {
			return ch, focal.FieldErrorf("org", "choose an organisation from the list")
		}
		if id != i.OrgID {
			ch.OrgID = &id
		}
	}
	return ch, nil
}

// assigneeID reads the assignee field: "me", "none" (or 0), or an
// account a coordinator chose from the list.
func (h *handlers) assigneeID(r *http.Request, v string, p focal.Principal) (int64, error) {
	switch v {
	case "me":
		return p.UserID, nil
	case "", "none", "0":
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, focal.FieldErrorf("assignee", "choose someone from the list")
	}
	if id == p.UserID {
		return id, nil
	}
	people, err := h.assignable(r.Context())
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(people, func(o personOption) bool { return o.ID == id }) {
		return 0, focal.FieldErrorf("assignee", "choose someone from the list: a handler or a coordinator")
	}
	return id, nil
}

// transitionError explains in words why an incident cannot go from one
// status to another, and where it can go.
func transitionError(from, to focal.Status) error {
	var next []string
	for _, s := range focal.NextStatuses(from) {
		next = append(next, statusLabel(s))
	}
	if len(next) == 0 {
		return focal.FieldErrorf("status", "a %s incident cannot change status any more", statusLabel(from))
	}
	return focal.FieldErrorf("status", "a %s incident cannot become %s; it can become %s", statusLabel(from), statusLabel(to), orList(next))
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
