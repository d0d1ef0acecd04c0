package ui

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"focal/internal/focal"
	"focal/internal/store"
)

// reportRejected is the neutral answer to a report that failed the bot
// checks: it tells a bot nothing about which check it failed.
const reportRejected = "your report could not be accepted; please open the form again and send it from there"

// reportSubmit serves POST /report: it checks the sender is a person
// (honeypot, fill time, arithmetic), limits reports per client address,
// validates the form and stores the report as a new incident of the
// anonymous public, then sends the citizen to the receipt.
func (h *handlers) reportSubmit(w http.ResponseWriter, r *http.Request) {
	if err := parseReportBody(r); err != nil {
		if focal.ErrorCode(err) == focal.ETOOLARGE {
			// Nothing of the form could be read: ask again, saying why.
			h.reportFormError(w, r, reportForm{}, time.Now(), &fieldError{Field: "file", Label: "Your file",
				Message: "is too large: at most 10 MiB; your report was not sent, please write it again"})
			return
		}
		h.error(w, r, err)
		return
	}
	f := parseReportForm(r)
	// People do not see the honeypot field; bots fill it in.
	if r.PostForm.Get("website") != "" {
		h.renderError(w, r, http.StatusBadRequest, reportRejected)
		return
	}
	now := time.Now()
	issued, res := verifyHumanCheck(h.reportKey, r.PostForm.Get("token"), r.PostForm.Get("answer"), now, h.minFill, maxReportFillTime)
	switch res {
	case checkInvalid:
		h.renderError(w, r, http.StatusBadRequest, reportRejected)
		return
	case checkTooFast:
		h.reportFormError(w, r, f, now, &fieldError{Label: "The form", Message: "was sent very soon after it was shown; please check your report and send it again"})
		return
	case checkExpired:
		h.reportFormError(w, r, f, now, &fieldError{Label: "The form", Message: "was open for more than two hours; please check your report and send it again"})
		return
	}
	if ok, retry := h.reportLimit.Allow("report:" + h.auth.ClientAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		h.renderError(w, r, http.StatusTooManyRequests, "too many reports from your address; please try again in "+humanDuration(retry.Round(time.Second)))
		return
	}
	cat, err := f.validate()
	if err == nil && res == checkWrong {
		err = focal.FieldErrorf("answer", "that is not the answer; please answer this new question")
	}
	if err != nil {
		h.reportFormError(w, r, f, issued, reportFieldError(err))
		return
	}
	// The file is checked and stored before the incident exists: a
	// refused file leaves no incident behind.
	file, err := h.saveReportFile(r)
	if err != nil {
		fe, _, ok := uploadFieldError(err, "Your file", maxReportFileBytes)
		if !ok {
			h.error(w, r, err)
			return
		}
		h.reportFormError(w, r, f, issued, fe)
		return
	}
	i := &focal.Incident{
		Title: "Web report: " + cat.Label, Description: f.Description,
		Classifications: []focal.Classification{cat.Class},
		TLP:             focal.TLPAmber, Status: focal.StatusNew, Channel: "web",
		Reporter: focal.Reporter{Name: f.Name, Email: f.Email, Phone: f.Phone, Organisation: f.Organisation},
	}
	var obs []focal.Observable
	if h.extract != nil {
		obs = h.extract(f.Description)
	}
	// Whoever sends the public form, logged in or not, reports as the
	// public: the store files it as a report (focal.KindReport).
	ctx := focal.NewContextWithPrincipal(r.Context(), focal.Anonymous())
	if err := h.store.CreateIncident(ctx, i, obs); err != nil {
		var e *focal.Error
		if errors.As(err, &e) && e.Code == focal.EINVALID {
			h.reportFormError(w, r, f, issued, reportFieldError(err))
			return
		}
		h.error(w, r, err)
		return
	}
	if file != nil {
		// The public may not change the incident it reported: focal
		// records the file it received, as the mail intake does.
		file.IncidentID = i.ID
		sys := focal.NewContextWithPrincipal(r.Context(), focal.System())
		if err := h.store.AddAttachment(sys, file); err != nil {
			h.error(w, r, err)
			return
		}
		if err := h.extractFromAttachment(sys, h.files, file); err != nil {
			h.error(w, r, err)
			return
		}
	}
	v := url.Values{"ref": {i.Ref}, "sig": {receiptSig(h.reportKey, i.Ref)}}
	redirect(w, r, "/report/sent?"+v.Encode())
}

// parseReportBody parses the report form, sent as multipart/form-data
// (with an optional file) or URL-encoded (without one). A file part is
// spooled to a temporary file, which the server removes afterwards.
func parseReportBody(r *http.Request) error {
	err := r.ParseMultipartForm(64 << 10)
	if err == nil || errors.Is(err, http.ErrNotMultipart) {
		return nil
	}
	return bodyError(err)
}

// saveReportFile stores the report's file, if one was sent, and returns
// the attachment to record (nil for none). At most one file is accepted.
func (h *handlers) saveReportFile(r *http.Request) (*store.Attachment, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var files []*multipart.FileHeader
	for name, fhs := range r.MultipartForm.File {
		if name != "file" {
			return nil, focal.FieldErrorf("file", "send the file in the form's file field")
		}
		files = fhs
	}
	switch {
	case len(files) == 0 || len(files) == 1 && files[0].Filename == "" && files[0].Size == 0:
		return nil, nil
	case len(files) > 1:
		return nil, focal.FieldErrorf("file", "attach one file at most")
	case h.reportFiles == nil:
		return nil, focal.FieldErrorf("file", "files cannot be received at the moment; send your report without it")
	}
	fh := files[0]
	name := fileName(fh.Filename)
	if name == "" {
		name = "attachment"
	}
	if fh.Size > maxReportFileBytes {
		return nil, focal.Errorf(focal.ETOOLARGE, "the file is too large")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("report file: %w", err)
	}
	defer f.Close() // read-only: closing cannot lose data
	saved, err := h.reportFiles.Save(f, fh.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if saved.Size == 0 {
		return nil, focal.FieldErrorf("file", "the file is empty")
	}
	return &store.Attachment{Name: name, ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256, TLP: focal.TLPAmber}, nil
}

// parseReportForm reads the posted report form.
func parseReportForm(r *http.Request) reportForm {
	return reportForm{
		Category:     r.PostForm.Get("category"),
		Description:  strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("description"), "\r\n", "\n")),
		Name:         formValue(r, "name"),
		Email:        formValue(r, "email"),
		Phone:        formValue(r, "phone"),
		Organisation: formValue(r, "organisation"),
		Consent:      r.PostForm.Get("consent") != "",
	}
}

// validate checks the report and returns its category.
func (f reportForm) validate() (reportCategory, error) {
	cat, ok := lookupReportCategory(f.Category)
	if !ok {
		return cat, focal.FieldErrorf("category", "choose what happened from the list")
	}
	if f.Description == "" {
		return cat, focal.FieldErrorf("description", "describe what happened")
	}
	if n := utf8.RuneCountInString(f.Description); n > maxReportDescription {
		return cat, focal.FieldErrorf("description", "is too long: at most 20,000 characters, yours has %d", n)
	}
	if utf8.RuneCountInString(f.Name) > 200 {
		return cat, focal.FieldErrorf("name", "is too long: at most 200 characters")
	}
	if utf8.RuneCountInString(f.Organisation) > 200 {
		return cat, focal.FieldErrorf("organisation", "is too long: at most 200 characters")
	}
	if f.Email != "" && focal.ValidateEmail(f.Email) != nil {
		return cat, focal.FieldErrorf("email", "%q is not an e-mail address", f.Email)
	}
	if f.Phone != "" && !phoneNumber(f.Phone) {
		return cat, focal.FieldErrorf("phone", "write the number with digits, spaces, + ( ) - and . only")
	}
	if (f.Name != "" || f.Email != "" || f.Phone != "" || f.Organisation != "") && !f.Consent {
		return cat, focal.FieldErrorf("consent", "tick the box to let us use your contact details, or leave them empty")
	}
	return cat, nil
}

// phoneNumber reports whether s looks like a phone number.
func phoneNumber(s string) bool {
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case strings.ContainsRune(" +()-./", c):
		default:
			return false
		}
	}
	return digits >= 3 && len(s) <= 40
}

// reportFieldError places a validation error of the report form next to
// its field, in the citizen's words.
func reportFieldError(err error) *fieldError {
	var e *focal.Error
	if !errors.As(err, &e) {
		return &fieldError{Label: "Your report", Message: focal.ErrorMessage(err)}
	}
	labels := map[string]string{
		"category": "What happened", "description": "Description", "name": "Your name", "email": "Your e-mail",
		"phone": "Your phone number", "organisation": "Your organisation", "consent": "Consent", "answer": "Question",
		"reporter.email": "Your e-mail",
	}
	field := strings.TrimPrefix(e.Field, "reporter.")
	label, ok := labels[e.Field]
	if !ok {
		return &fieldError{Label: "Your report", Message: e.Message}
	}
	return &fieldError{Field: field, Label: label, Message: e.Message}
}

// reportFormError shows the report form again with the typed values, a
// new question and the error; issued is when the form was first shown.
func (h *handlers) reportFormError(w http.ResponseWriter, r *http.Request, f reportForm, issued time.Time, fe *fieldError) {
	page := h.newReportPage(r, f, issued)
	page.Err = fe
	h.render(w, r, http.StatusBadRequest, "report_form", page)
}

// reportSentPage is the data of the receipt after a report.
type reportSentPage struct {
	base
	Ref string
}

// reportSent serves GET /report/sent?ref=…&sig=…: the receipt with the
// tracking reference and what happens next. The reference is signed, so
// the page shows only references focal issued.
func (h *handlers) reportSent(w http.ResponseWriter, r *http.Request) {
	ref, sig := r.URL.Query().Get("ref"), r.URL.Query().Get("sig")
	if ref == "" || !hmac.Equal([]byte(sig), []byte(receiptSig(h.reportKey, ref))) {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such page"))
		return
	}
	h.render(w, r, http.StatusOK, "report_sent", reportSentPage{base: h.base(r, "Report received"), Ref: ref})
}
