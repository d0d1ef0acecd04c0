package restapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// maxUpload bounds an attachment upload's request body.
const maxUpload = 26 << 20

type attachmentBody struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	TLP         focal.TLP `json:"tlp"`
	CreatedAt   time.Time `json:"created_at"`
}

func attachmentToBody(a store.Attachment) attachmentBody {
	return attachmentBody{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, TLP: a.TLP, CreatedAt: a.CreatedAt}
}

func (a *API) listAttachments(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	list, err := a.Store.Attachments(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []attachmentBody{}
	for _, at := range list {
		out = append(out, attachmentToBody(at))
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// uploadAttachment takes the file as the raw request body; the file name
// comes from ?name= or Content-Disposition, the type from Content-Type.
func (a *API) uploadAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	// Check access before reading a byte of the upload.
	if _, err := a.Store.Incident(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	if name == "" || len(name) > 200 {
		a.Error(w, r, focal.FieldErrorf("name", "give the file name (1–200 characters) as ?name= or in Content-Disposition"))
		return
	}
	var tlp focal.TLP
	if v := r.URL.Query().Get("tlp"); v != "" {
		if tlp, err = focal.ParseTLP(v); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	saved, err := a.Attachments.Save(r.Body, r.Header.Get("Content-Type"))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = focal.Errorf(focal.ETOOLARGE, "attachment larger than %d bytes", mbe.Limit)
		}
		a.Error(w, r, err)
		return
	}
	rec := &store.Attachment{IncidentID: id, Name: name, ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256, TLP: tlp}
	if err := a.Store.AddAttachment(r.Context(), rec); err != nil {
		a.Error(w, r, err)
		return
	}
	if a.Extract != nil {
		text, ok, err := a.Attachments.Text(saved.SHA256, saved.ContentType)
		if err == nil && ok {
			_, err = a.Store.AddObservables(r.Context(), id, a.Extract(text), "attachment "+name)
		}
		if err != nil {
			a.Error(w, r, err)
			return
		}
	}
	a.writeJSON(w, http.StatusCreated, attachmentToBody(*rec))
}

// downloadAttachment streams the file as an opaque download: never
// rendered by the browser, whatever it contains.
func (a *API) downloadAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	aid, err := strconv.ParseInt(r.PathValue("attachment"), 10, 64)
	if err != nil || aid <= 0 {
		a.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no such attachment %q", r.PathValue("attachment")))
		return
	}
	rec, err := a.Store.Attachment(r.Context(), id, aid)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f, err := a.Attachments.Open(rec.SHA256)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(rec.Name))
	w.Header().Set("Content-Length", strconv.FormatInt(rec.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := io.Copy(w, f); err != nil {
		a.Logger.Debug("send attachment", "err", err)
	}
}
