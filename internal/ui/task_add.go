package ui

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// dueLayout is how a datetime-local field sends a due date (read as UTC,
// the zone the pages show).
const dueLayout = "2006-01-02T15:04"

// taskAdd serves POST /incidents/{id}/tasks: it adds a task with a title,
// an optional due date and an owner ("me", nobody, or for coordinators
// anyone who handles incidents), and goes back to the tasks.
func (h *handlers) taskAdd(w http.ResponseWriter, r *http.Request) {
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
	tf := taskForm{Title: formValue(r, "title"), Due: formValue(r, "due"), Owner: formValue(r, "owner")}
	t, err := h.parseTask(r, tf)
	if err == nil {
		t.IncidentID = id
		err = h.store.AddTask(ctx, t)
	}
	if err != nil {
		fe, ok := taskFieldError(err)
		if !ok {
			h.error(w, r, err)
			return
		}
		h.showIncidentWith(w, r, id, http.StatusBadRequest, fe, func(p *incidentDetailPage) { p.Task = tf })
		return
	}
	redirect(w, r, withNotice(incidentPath(id), "task")+"#tasks")
}

// parseTask checks the typed task and returns it, without its incident.
func (h *handlers) parseTask(r *http.Request, tf taskForm) (*store.Task, error) {
	t := &store.Task{Title: tf.Title}
	if tf.Title == "" {
		return nil, focal.FieldErrorf("task_title", "say what is to be done")
	}
	if tf.Due != "" {
		due, err := time.ParseInLocation(dueLayout, tf.Due, time.UTC)
		if err != nil {
			return nil, focal.FieldErrorf("task_due", "write the date and time as 2026-01-31T17:00 (UTC)")
		}
		t.Due = due
	}
	owner, err := h.ownerID(r, tf.Owner)
	if err != nil {
		return nil, err
	}
	t.OwnerID = owner
	return t, nil
}

// ownerID reads a task's owner: "me", "" (nobody), or an account a
// coordinator chose from the list.
func (h *handlers) ownerID(r *http.Request, v string) (int64, error) {
	self := focal.PrincipalFromContext(r.Context()).UserID
	switch v {
	case "me":
		return self, nil
	case "", "none", "0":
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, focal.FieldErrorf("task_owner", "choose someone from the list")
	}
	if id == self {
		return id, nil
	}
	people, err := h.assignable(r.Context())
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(people, func(o personOption) bool { return o.ID == id }) {
		return 0, focal.FieldErrorf("task_owner", "choose someone from the list: a handler or a coordinator")
	}
	return id, nil
}

// taskFieldError places an error of the task form next to its field; ok
// is false for errors that are not about the form.
func taskFieldError(err error) (*fieldError, bool) {
	fe, ok := incidentFieldError(err)
	if !ok {
		return nil, false
	}
	switch fe.Label {
	case "task_title":
		return &fieldError{Field: "task_title", Label: "Task", Message: fe.Message}, true
	case "task_due":
		return &fieldError{Field: "task_due", Label: "Due", Message: fe.Message}, true
	case "owner_id", "task_owner":
		return &fieldError{Field: "task_owner", Label: "Owner", Message: fe.Message}, true
	}
	if fe.Field == "title" {
		return &fieldError{Field: "task_title", Label: "Task", Message: fe.Message}, true
	}
	return fe, true
}
