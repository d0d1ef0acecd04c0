package ui_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/store"
)

func advisoryValues(cvss, affected string) url.Values {
	return url.Values{
		"title": {"Router firmware RCE"}, "tlp": {"CLEAR"}, "summary": {"Update the firmware to 2.4.1."},
		"product.0.vendor": {"Example Networks"}, "product.0.name": {"Router"}, "product.0.version": {"2.4.0"},
		"product.1.vendor": {"Example Networks"}, "product.1.name": {"Router"}, "product.1.version": {"2.4.1"},
		"product.2.vendor": {""},
		"vuln.0.cve":       {"CVE-2026-5555"}, "vuln.0.description": {"A stack overflow in the web interface."},
		"vuln.0.cvss": {cvss}, "vuln.0.affected": {affected}, "vuln.0.fixed": {"CSAFPID-0002"},
		"vuln.0.rem.0.category": {"vendor_fix"}, "vuln.0.rem.0.details": {"Update to 2.4.1."},
		"ref.0.url": {"https://example.com/advisory"}, "ref.0.summary": {"Vendor advisory"},
	}
}

// TestAdvisoryPages writes an advisory in the form (bad input explained
// in the author's terms, the score computed), submits it, publishes it
// as a second person and reads it on the public warnings pages and feed.
func TestAdvisoryPages(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "handler", "/advisories/new"); r.status != http.StatusOK || !strings.Contains(r.body, `name="vuln.0.cvss"`) {
		t.Fatalf("new form = %d", r.status)
	}
	if r := e.post(t, "handler", "/advisories", url.Values{"tlp": {"CLEAR"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "give the advisory a title") {
		t.Errorf("create without title = %d", r.status)
	}
	if r := e.post(t, "constituent", "/advisories", advisoryValues("", "")); r.status != http.StatusForbidden {
		t.Errorf("constituent create = %d", r.status)
	}
	r := e.post(t, "handler", "/advisories", advisoryValues("CVSS:3.1/AV:N/AC:L", "CSAFPID-0009"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	loc := strings.SplitN(r.header.Get("Location"), "?", 2)[0]
	d := e.get(t, "handler", loc)
	for _, want := range []string{"refers to product CSAFPID-0009, which is not in the product list", "the vector lacks PR (privileges required)"} {
		if !strings.Contains(d.body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if strings.Contains(d.body, `id="submit-review"`) {
		t.Error("an advisory with problems offers submission")
	}
	if r := e.post(t, "handler", loc+"/submit", url.Values{}); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "error=") {
		t.Errorf("submit with problems = %d %s", r.status, r.header.Get("Location"))
	}
	if r := e.post(t, "handler", loc, advisoryValues("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CSAFPID-0001")); r.status != http.StatusSeeOther {
		t.Fatalf("update = %d %s", r.status, r.body)
	}
	d = e.get(t, "handler", loc)
	if !strings.Contains(d.body, "9.8 (CRITICAL)") || !strings.Contains(d.body, `id="submit-review"`) {
		t.Fatalf("detail after fix lacks the score or the submit button:\n%s", d.body)
	}
	if r := e.post(t, "handler", loc+"/submit", url.Values{}); r.status != http.StatusSeeOther || strings.Contains(r.header.Get("Location"), "error=") {
		t.Fatalf("submit = %d %s", r.status, r.header.Get("Location"))
	}
	if d := e.get(t, "handler", loc); !strings.Contains(d.body, "Waiting for a second person") || strings.Contains(d.body, `id="approve"`) {
		t.Error("the author is offered approval")
	}
	if d := e.get(t, "analyst", loc); !strings.Contains(d.body, `id="approve"`) {
		t.Error("a second person is not offered approval")
	}
	if r := e.get(t, "handler", "/advisories/cvss?vuln.0.cvss="+url.QueryEscape("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")); !strings.Contains(r.body, "6.1 MEDIUM") {
		t.Errorf("cvss fragment = %q", r.body)
	}

	// Publish as the analyst (the approve button posts to the provider).
	list, err := e.st.Advisories(e.sys, store.AdvisoryFilter{State: store.AdvisoryReview})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	priv, _, _, err := csaf.GenerateKey("CERT", "cert@example.org", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := csaf.NewSigner(string(priv), "")
	if err != nil {
		t.Fatal(err)
	}
	ana := focal.NewContextWithPrincipal(e.sys, e.users["analyst"].Principal())
	doc, err := e.st.ApproveAdvisory(ana, list[0].ID, store.PublishOptions{Signer: signer, Publisher: csaf.Publisher{Name: "CERT", Namespace: "https://cert.example"}})
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(doc.Filename, ".json")
	if r := e.get(t, "", "/warnings"); r.status != http.StatusOK || !strings.Contains(r.body, "Router firmware RCE") || !strings.Contains(r.body, "/warnings/"+name) {
		t.Errorf("warnings = %d", r.status)
	}
	w := e.get(t, "", "/warnings/"+name)
	if w.status != http.StatusOK || !strings.Contains(w.body, "Example Networks Router 2.4.0") || !strings.Contains(w.body, doc.Path()+".asc") {
		t.Errorf("warning page = %d", w.status)
	}
	if r := e.get(t, "", "/warnings/no-such"); r.status != http.StatusNotFound {
		t.Errorf("unknown warning = %d", r.status)
	}
	f := e.get(t, "", "/warnings/feed.atom")
	if f.header.Get("Content-Type") != "application/atom+xml; charset=utf-8" || !strings.Contains(f.body, "<entry>") || !strings.Contains(f.body, doc.TrackingID) {
		t.Errorf("feed = %s %s", f.header.Get("Content-Type"), f.body)
	}
	if r := e.get(t, "constituent", "/advisories"); !strings.Contains(r.body, "Router firmware RCE") {
		t.Error("a constituent does not see the published advisory")
	}
	if r := e.get(t, "peer", "/advisories"); r.status != http.StatusForbidden {
		t.Errorf("peer /advisories = %d", r.status)
	}
	d = e.get(t, "handler", loc)
	if !strings.Contains(d.body, `id="revise"`) || !strings.Contains(d.body, doc.Filename) {
		t.Error("published advisory page lacks the correction form or the document link")
	}
	if r := e.post(t, "handler", loc+"/revise", url.Values{"summary": {"Add a workaround"}}); r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "/edit") {
		t.Errorf("revise = %d %s", r.status, r.header.Get("Location"))
	}
	if r := e.get(t, "handler", loc+"/edit"); !strings.Contains(r.body, "Add a workaround") {
		t.Error("the correction form lacks its summary")
	}
}

// TestAdvisoryImportPage imports a CSAF file through the form; a file
// that is not CSAF 2.0 is explained.
func TestAdvisoryImportPage(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "handler", "/advisories/import"); r.status != http.StatusOK || !strings.Contains(r.body, `type="file"`) {
		t.Fatalf("import form = %d", r.status)
	}
	doc, err := os.ReadFile("../csaf/testdata/roundtrip/focal-2026-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	upload := func(content []byte) (int, string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, err := mw.CreateFormFile("file", "advisory.json")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(content); err != nil {
			t.Fatal(err)
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest("POST", e.srv.URL+"/advisories/import", &b)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(&http.Cookie{Name: httpauth.CookieName, Value: e.sessions["handler"]})
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}
	code, loc, _ := upload(doc)
	if code != http.StatusSeeOther {
		t.Fatalf("import = %d", code)
	}
	d := e.get(t, "handler", strings.SplitN(loc, "?", 2)[0])
	if !strings.Contains(d.body, "FOCAL-2026-0001") || !strings.Contains(d.body, "9.8 (CRITICAL)") || !strings.Contains(d.body, `id="submit-review"`) {
		t.Errorf("imported advisory page lacks its tracking ID, score or submit button")
	}
	if code, _, body := upload([]byte(`{"document": {"csaf_version": "1.2"}}`)); code != http.StatusBadRequest || !strings.Contains(body, "not a CSAF 2.0 document") {
		t.Errorf("import(bad) = %d", code)
	}
}
