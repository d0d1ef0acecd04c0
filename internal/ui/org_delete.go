package ui

import "net/http"

// orgDelete serves POST /organisations/{id}/delete. An organisation that
// still has accounts is refused with a 409 page saying so.
func (h *handlers) orgDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.store.DeleteOrganisation(r.Context(), id)
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.constituencyChanged()
	redirect(w, r, withNotice("/organisations", "deleted"))
}
