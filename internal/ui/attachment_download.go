package ui

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// attachmentDownload serves GET /incidents/{id}/attachments/{aid}: the
// file's bytes, always as a download (never shown inline, never sniffed).
// Files of a restricted category are not handed out here: their pages
// show the hashes only.
func (h *handlers) attachmentDownload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || aid <= 0 {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such attachment"))
		return
	}
	i, err := h.store.Incident(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if i.Restricted() {
		h.error(w, r, focal.Errorf(focal.EFORBIDDEN, "files of a restricted category are not downloaded through the web interface"))
		return
	}
	a, err := h.store.Attachment(ctx, id, aid)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if !mayReadAttachment(r, i, a) {
		h.error(w, r, focal.Errorf(focal.EFORBIDDEN, "the attachment's TLP does not allow you to read it"))
		return
	}
	if h.files == nil {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such attachment"))
		return
	}
	f, err := h.files.Open(a.SHA256)
	if err != nil {
		h.error(w, r, err)
		return
	}
	defer f.Close() // read-only: closing cannot lose data
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Disposition", "attachment; filename*=UTF-8''"+escapeFilename(a.Name))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	hd.Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, f); err != nil {
		h.logger.Debug("write attachment", "path", r.URL.Path, "err", err)
	}
}

// escapeFilename percent-encodes name for a filename* parameter (RFC
// 8187): every byte but the attr-chars is escaped.
func escapeFilename(name string) string {
	const attrChars = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(attrChars, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
	}
	return b.String()
}
