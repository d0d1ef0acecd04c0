package ui

import (
	"net/http"
	"strconv"

	"focal/internal/focal"
)

// ownContactsID returns the {id} of a portal page of an organisation the
// caller keeps the contacts of; another organisation's is not found, so
// a constituent cannot probe which organisations exist.
func (h *handlers) ownContactsID(r *http.Request) (int64, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	if !may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: id}) {
		return 0, focal.Errorf(focal.ENOTFOUND, "no such page")
	}
	return id, nil
}

// orgContactsEdit serves GET /organisations/{id}/contacts: the contacts
// and notification preferences of an organisation, the part of it its
// own constituents keep. It shows the contacts, so the view is audited.
func (h *handlers) orgContactsEdit(w http.ResponseWriter, r *http.Request) {
	id, err := h.ownContactsID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	o, err := h.store.Organisation(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if len(o.Contacts) > 0 {
		if err := h.store.Audit(r.Context(), "view", "organisation", strconv.FormatInt(id, 10), map[string]any{"contacts": len(o.Contacts), "via": "ui-contacts"}); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "org_form", h.contactsFormPage(r, id, orgToForm(o)))
}

// contactsFormPage is the organisation form reduced to contacts and
// notification preferences.
func (h *handlers) contactsFormPage(r *http.Request, id int64, f orgForm) orgFormPage {
	page := h.newOrgFormPage(r, id, f)
	page.ContactsOnly = true
	page.Title = "Contacts of " + f.Name
	page.Action = "/organisations/" + strconv.FormatInt(id, 10) + "/contacts"
	return page
}

// orgContactsUpdate serves POST /organisations/{id}/contacts: it replaces
// the contacts and notification preferences, or shows the form again
// with the error next to its field.
func (h *handlers) orgContactsUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := h.ownContactsID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f, addRow, err := parseOrgForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if f.Name == "" {
		if o, err := h.store.Organisation(r.Context(), id); err == nil {
			f.Name = o.Name
		}
	}
	page := h.contactsFormPage(r, id, f)
	if addRow {
		page.Form.Contacts = append(page.Form.Contacts, blankContact())
		h.render(w, r, http.StatusOK, "org_form", page)
		return
	}
	o, rows, err := f.toOrg()
	if err == nil {
		_, err = h.store.UpdateContacts(r.Context(), id, o.Contacts, &o.Notify)
	}
	if err != nil {
		h.orgFormError(w, r, page, rows, err)
		return
	}
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(id, 10), "saved"))
}
