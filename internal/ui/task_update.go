package ui

import (
	"net/http"
	"strconv"

	"focal/internal/focal"
)

// taskUpdate serves POST /incidents/{id}/tasks/{task}: done=1 marks the
// task done, done=0 opens it again; then back to the tasks.
func (h *handlers) taskUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
	if err != nil || task <= 0 {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such task"))
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	var done bool
	switch r.PostForm.Get("done") {
	case "1":
		done = true
	case "0":
	default:
		h.error(w, r, focal.FieldErrorf("done", "say whether the task is done"))
		return
	}
	if err := h.store.CompleteTask(r.Context(), id, task, done); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice(incidentPath(id), "task")+"#tasks")
}
