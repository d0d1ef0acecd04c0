package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// maxReportDescription bounds the description of a public report, in
// characters.
const maxReportDescription = 20_000

// reportCategory is a kind of incident as a citizen names it, with the
// RSIT classification the report is filed under.
type reportCategory struct {
	Key   string // the form value
	Label string
	Class focal.Classification
}

// reportCategories is the public report form's choice of what happened,
// in the order shown, mapped to RSIT. Harassment and child sexual abuse
// material map to restricted categories: only granted handlers see them.
func reportCategories() []reportCategory {
	return []reportCategory{
		{"phishing", "Phishing or fraud e-mail / website", focal.Classification{Class: "fraud", Type: "phishing"}},
		{"malware", "Malware or infected device", focal.Classification{Class: "malicious-code", Type: "infected-system"}},
		{"account", "Hacked account", focal.Classification{Class: "intrusions", Type: "unprivileged-account-compromise"}},
		{"website", "Hacked website or defacement", focal.Classification{Class: "intrusions", Type: "application-compromise"}},
		{"ddos", "Attack on availability (DDoS)", focal.Classification{Class: "availability", Type: "ddos"}},
		{"spam", "Spam", focal.Classification{Class: "abusive-content", Type: "spam"}},
		{"data-leak", "Data leak", focal.Classification{Class: "information-content-security", Type: "data-leak"}},
		{"harassment", "Harassment or threats online", focal.Classification{Class: "abusive-content", Type: "harmful-speech"}},
		{"csam", "Child sexual abuse material", focal.Classification{Class: "abusive-content", Type: "violence"}},
		{"scanning", "Scanning or intrusion attempt", focal.Classification{Class: "information-gathering", Type: "scanner"}},
		{"vulnerability", "Vulnerability in a system", focal.Classification{Class: "vulnerable", Type: "vulnerable-system"}},
		{"other", "Something else", focal.Classification{Class: "other", Type: "undetermined"}},
	}
}

// lookupReportCategory returns the category with form value key.
func lookupReportCategory(key string) (reportCategory, bool) {
	for _, c := range reportCategories() {
		if c.Key == key {
			return c, true
		}
	}
	return reportCategory{}, false
}

// reportForm is the public report form as the citizen typed it.
type reportForm struct {
	Category     string
	Description  string
	Name         string
	Email        string
	Phone        string
	Organisation string
	Consent      bool
}

// reportPage is the data of the public report form.
type reportPage struct {
	base
	formError
	Form       reportForm
	Categories []reportCategory
	Check      humanCheck
	MaxChars   int
}

// newReportPage returns the form page with a fresh question, its token
// saying the form was shown at issued.
func (h *handlers) newReportPage(r *http.Request, f reportForm, issued time.Time) reportPage {
	return reportPage{
		base: h.base(r, "Report an incident"), Form: f, Categories: reportCategories(),
		Check: newHumanCheck(h.reportKey, issued), MaxChars: maxReportDescription,
	}
}

// reportForm serves GET /report: the public report form, open to everyone.
func (h *handlers) reportForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "report_form", h.newReportPage(r, reportForm{}, time.Now()))
}

// humanCheck is the report form's arithmetic question with the signed
// token that carries when the form was rendered and (as a MAC, not in
// clear) the answer.
type humanCheck struct {
	Question string // e.g. "What is 3 plus 4?"
	Token    string
}

// checkResult is the outcome of verifying a human check.
type checkResult int

const (
	checkOK      checkResult = iota
	checkInvalid             // not a token this process issued, or tampered with
	checkTooFast             // sent sooner than the minimum fill time
	checkExpired             // sent after the maximum fill time
	checkWrong               // the answer is wrong
)

// mac returns the base64url HMAC-SHA256 of parts under key.
func mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "|"))) // a hash.Hash never fails to write
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newHumanCheck asks a sum of two digits and signs a token for a form
// rendered at issued: "issued.nonce.answerMAC.signature".
func newHumanCheck(key []byte, issued time.Time) humanCheck {
	a, b := mrand.IntN(9)+1, mrand.IntN(9)+1
	nonce := base64.RawURLEncoding.EncodeToString(randomBytes(12))
	ts := strconv.FormatInt(issued.UnixMilli(), 10)
	answer := mac(key, "answer", ts, nonce, strconv.Itoa(a+b))
	sig := mac(key, "form", ts, nonce, answer)
	return humanCheck{Question: fmt.Sprintf("What is %d plus %d?", a, b), Token: ts + "." + nonce + "." + answer + "." + sig}
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // crypto/rand.Read never returns an error (Go 1.24+)
	return b
}

// verifyHumanCheck checks a token from newHumanCheck and the answer given
// at now; it returns when the form was rendered (for a valid token).
func verifyHumanCheck(key []byte, token, answer string, now time.Time, minFill, maxFill time.Duration) (time.Time, checkResult) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || !hmac.Equal([]byte(parts[3]), []byte(mac(key, "form", parts[0], parts[1], parts[2]))) {
		return time.Time{}, checkInvalid
	}
	ms, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return time.Time{}, checkInvalid
	}
	issued := time.UnixMilli(ms)
	switch age := now.Sub(issued); {
	case age < minFill:
		return issued, checkTooFast
	case age > maxFill:
		return issued, checkExpired
	}
	n, err := strconv.Atoi(strings.TrimSpace(answer))
	if err != nil || !hmac.Equal([]byte(parts[2]), []byte(mac(key, "answer", parts[0], parts[1], strconv.Itoa(n)))) {
		return issued, checkWrong
	}
	return issued, checkOK
}

// receiptSig signs a tracking reference for the receipt page, so that a
// link cannot make focal show a reference it did not issue.
func receiptSig(key []byte, ref string) string { return mac(key, "receipt", ref) }
