package ui

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"focal/internal/attachment"
	"focal/internal/focal"
	"focal/internal/store"
)

// Upload limits: a file of the attachment store's default limit, in a
// form a little larger; a public report's file is smaller.
const (
	maxUploadBody      = 26 << 20
	maxReportFileBytes = 10 << 20
	maxReportBody      = 11 << 20
	maxFileName        = 255 // characters
)

// attachmentUpload serves POST /incidents/{id}/attachments: a
// multipart/form-data form with the file in "file" and an optional TLP.
// The file is streamed into the attachment store (never held in memory),
// then recorded on the incident. A file that is too large or whose
// declared type contradicts its bytes is refused with the reason.
func (h *handlers) attachmentUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if h.files == nil {
		h.error(w, r, focal.Errorf(focal.ENOTIMPLEMENTED, "attachments are not configured"))
		return
	}
	if _, err := h.store.Incident(ctx, id); err != nil {
		h.error(w, r, err)
		return
	}
	uf, rec, err := h.readUpload(r, h.files)
	if err == nil {
		rec.IncidentID = id
		err = h.store.AddAttachment(ctx, rec)
	}
	if err == nil {
		err = h.extractFromAttachment(ctx, h.files, rec)
	}
	if err != nil {
		// Drain what is left of a refused body (bounded by the route's
		// limit), so the browser gets the answer rather than a reset.
		_, _ = io.Copy(io.Discard, r.Body) // best effort: the error is the answer
		fe, status, ok := uploadFieldError(err, "File", attachment.DefaultMaxBytes)
		if !ok {
			h.error(w, r, err)
			return
		}
		h.showIncidentWith(w, r, id, status, fe, func(p *incidentDetailPage) { p.Upload = uf })
		return
	}
	redirect(w, r, withNotice(incidentPath(id), "attached")+"#attachments")
}

// readUpload streams the parts of a multipart form: the first "file" part
// into files, the "tlp" field into the form. It returns the attachment to
// record, without its incident.
func (h *handlers) readUpload(r *http.Request, files *attachment.Store) (uploadForm, *store.Attachment, error) {
	var uf uploadForm
	mr, err := r.MultipartReader()
	if err != nil {
		return uf, nil, focal.FieldErrorf("file", "choose a file to attach")
	}
	var rec *store.Attachment
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uf, nil, bodyError(err)
		}
		switch part.FormName() {
		case "tlp":
			v, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return uf, nil, bodyError(err)
			}
			uf.TLP = strings.TrimSpace(string(v))
		case "file":
			if rec != nil {
				return uf, nil, focal.FieldErrorf("file", "attach one file at a time")
			}
			if rec, err = saveFilePart(part, files); err != nil {
				return uf, nil, err
			}
		}
	}
	if rec == nil {
		return uf, nil, focal.FieldErrorf("file", "choose a file to attach")
	}
	if uf.TLP != "" {
		t, err := focal.ParseTLP(uf.TLP)
		if err != nil {
			return uf, nil, focal.FieldErrorf("attachment_tlp", "choose a TLP label from the list")
		}
		rec.TLP = t
	}
	return uf, rec, nil
}

// saveFilePart stores one file part; an empty part (no file chosen) is an
// error.
func saveFilePart(part *multipart.Part, files *attachment.Store) (*store.Attachment, error) {
	name := fileName(part.FileName())
	if name == "" {
		return nil, focal.FieldErrorf("file", "choose a file to attach")
	}
	saved, err := files.Save(part, part.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if saved.Size == 0 {
		return nil, focal.FieldErrorf("file", "the file is empty")
	}
	return &store.Attachment{Name: name, ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256}, nil
}

// fileName keeps the base name a browser sent, without control
// characters, at most maxFileName characters.
func fileName(raw string) string {
	name := filepath.Base(strings.ReplaceAll(raw, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			return -1
		}
		return c
	}, name)
	if utf8.RuneCountInString(name) > maxFileName {
		name = string([]rune(name)[:maxFileName])
	}
	return strings.TrimSpace(name)
}

// bodyError turns an error reading a request body into a focal error.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return focal.Errorf(focal.ETOOLARGE, "the form is too large")
	}
	return focal.Wrap(focal.EINVALID, err, "malformed form")
}

// uploadFieldError explains a refused file in the user's words, next to
// the file field labelled label (files of at most max bytes), with the
// status to answer; ok is false
// for errors that are not about the form.
func uploadFieldError(err error, label string, max int64) (*fieldError, int, bool) {
	var e *focal.Error
	if !errors.As(err, &e) {
		return nil, 0, false
	}
	switch {
	case e.Code == focal.ETOOLARGE:
		return &fieldError{Field: "file", Label: label, Message: "is too large: at most " + strconv.FormatInt(max>>20, 10) + " MiB"}, http.StatusRequestEntityTooLarge, true
	case e.Code == focal.EINVALID && e.Field == "content_type":
		return &fieldError{Field: "file", Label: label, Message: "does not match its type (" + e.Message + "); check that you chose the right file"}, http.StatusBadRequest, true
	case e.Code == focal.EINVALID && e.Field == "file":
		return &fieldError{Field: "file", Label: label, Message: e.Message}, http.StatusBadRequest, true
	case e.Code == focal.EINVALID && e.Field == "attachment_tlp":
		return &fieldError{Field: "attachment_tlp", Label: "TLP of the file", Message: e.Message}, http.StatusBadRequest, true
	case e.Code == focal.EINVALID:
		return &fieldError{Label: label, Message: e.Message}, http.StatusBadRequest, true
	}
	return nil, 0, false
}

// extractFromAttachment adds the indicators found in a textual attachment
// to its incident.
func (h *handlers) extractFromAttachment(ctx context.Context, files *attachment.Store, rec *store.Attachment) error {
	if h.extract == nil || files == nil {
		return nil
	}
	text, ok, err := files.Text(rec.SHA256, rec.ContentType)
	if err != nil || !ok {
		return err
	}
	_, err = h.store.AddObservables(ctx, rec.IncidentID, h.extract(text), "attachment "+rec.Name)
	return err
}
