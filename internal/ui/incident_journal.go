package ui

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// maxJournalBody bounds a journal entry, as the store does.
const maxJournalBody = 100_000

// incidentJournal serves POST /incidents/{id}/journal: it adds a note, or
// the record of an e-mail sent or received, with its TLP, and goes back to
// the journal, or shows the page again with the error.
func (h *handlers) incidentJournal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	nf := noteForm{
		Kind: formValue(r, "kind"), TLP: formValue(r, "tlp"),
		Body: strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("body"), "\r\n", "\n")),
	}
	err = nf.validate()
	var tlp focal.TLP
	if err == nil && nf.TLP != "" {
		if tlp, err = focal.ParseTLP(nf.TLP); err != nil {
			err = focal.FieldErrorf("note_tlp", "choose a TLP label from the list")
		}
	}
	if err == nil {
		err = h.store.AddJournal(r.Context(), id, cmp.Or(nf.Kind, "note"), tlp, nf.Body)
	}
	if err != nil {
		fe, ok := incidentFieldError(err)
		if !ok {
			h.error(w, r, err)
			return
		}
		h.showIncident(w, r, id, http.StatusBadRequest, fe, nil, &nf)
		return
	}
	redirect(w, r, withNotice("/incidents/"+strconv.FormatInt(id, 10), "noted")+"#journal")
}

// validate checks the kind and the text of a journal entry.
func (nf noteForm) validate() error {
	if nf.Kind != "" && !slices.ContainsFunc(journalKinds(), func(k journalKind) bool { return k.Value == nf.Kind }) {
		return focal.FieldErrorf("kind", "choose a kind from the list")
	}
	if nf.Body == "" {
		return focal.FieldErrorf("body", "write something to add")
	}
	if len(nf.Body) > maxJournalBody {
		return focal.FieldErrorf("body", "is too long: at most 100,000 characters")
	}
	return nil
}
