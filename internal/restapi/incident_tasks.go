package restapi

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

type taskBody struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	OwnerID   int64      `json:"owner_id,omitempty"`
	Due       *time.Time `json:"due,omitempty"`
	Done      *time.Time `json:"done,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

func taskToBody(t store.Task) taskBody {
	b := taskBody{ID: t.ID, Title: t.Title, OwnerID: t.OwnerID, CreatedAt: t.CreatedAt}
	if !t.Due.IsZero() {
		b.Due = &t.Due
	}
	if !t.Done.IsZero() {
		b.Done = &t.Done
	}
	return b
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	tasks, err := a.Store.Tasks(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []taskBody{}
	for _, t := range tasks {
		out = append(out, taskToBody(t))
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (a *API) addTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Title   string     `json:"title"`
		OwnerID int64      `json:"owner_id"`
		Due     *time.Time `json:"due"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	t := &store.Task{IncidentID: id, Title: in.Title, OwnerID: in.OwnerID}
	if in.Due != nil {
		t.Due = in.Due.UTC()
	}
	if err := a.Store.AddTask(r.Context(), t); err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusCreated, taskToBody(*t))
}

func (a *API) updateTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	taskID, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
	if err != nil || taskID <= 0 {
		a.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no such task %q", r.PathValue("task")))
		return
	}
	var in struct {
		Done *bool `json:"done"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	if in.Done == nil {
		a.Error(w, r, focal.FieldErrorf("done", "required: true or false"))
		return
	}
	if err := a.Store.CompleteTask(r.Context(), id, taskID, *in.Done); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) mergeIncident(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Into int64  `json:"into"`
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	if in.Into <= 0 {
		a.Error(w, r, focal.FieldErrorf("into", "required: the id of the incident that survives"))
		return
	}
	if err := a.Store.MergeIncident(r.Context(), id, in.Into, in.Note); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
