package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdvisory writes an advisory in headless Chromium: the score
// appears next to the CVSS vector as it is typed (htmx, no inline
// script), a wrong vector is explained, and the saved advisory is
// submitted for review.
func TestBrowserAdvisory(t *testing.T) {
	root := browser(t)
	b := startApp(t)
	ctx := tab(t, root)
	if s := login(t, ctx, b.url, "coord", testPassword); s != http.StatusOK {
		t.Fatalf("login = %d", s)
	}
	if s := open(t, ctx, b.url+"/advisories/new"); s != http.StatusOK {
		t.Fatalf("GET /advisories/new = %d", s)
	}
	must(t, ctx, "fill in the advisory",
		chromedp.SendKeys(chromedp.CSS("#f-title"), "Router firmware RCE"),
		chromedp.SendKeys(chromedp.CSS("#f-summary"), "Update the firmware."),
		chromedp.SendKeys(chromedp.CSS(`input[name="product.0.vendor"]`), "Example Networks"),
		chromedp.SendKeys(chromedp.CSS(`input[name="product.0.name"]`), "Router"),
		chromedp.SendKeys(chromedp.CSS(`input[name="product.0.version"]`), "2.4.0"),
		chromedp.SendKeys(chromedp.CSS("#f-vuln-0-cve"), "CVE-2026-7777"),
		chromedp.SendKeys(chromedp.CSS("#f-vuln-0-description"), "A stack overflow."),
		chromedp.SendKeys(chromedp.CSS("#f-vuln-0-affected"), "CSAFPID-0001"),
		chromedp.SendKeys(chromedp.CSS("#f-vuln-0-cvss"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q"),
	)
	waitText := func(sel, want string) string {
		var got string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if got = text(t, ctx, sel); strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s shows %q, want %q", sel, got, want)
		return ""
	}
	waitText("#score-0", "the value of A must be one of")
	must(t, ctx, "correct the vector",
		chromedp.SetValue(chromedp.CSS("#f-vuln-0-cvss"), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:"),
		chromedp.SendKeys(chromedp.CSS("#f-vuln-0-cvss"), "H"),
	)
	waitText("#score-0", "9.8 CRITICAL")
	noCSPViolations(t, ctx)
	if s := submit(t, ctx, `form[action="/advisories"] button[type="submit"]`); s != http.StatusOK {
		t.Fatalf("save = %d", s)
	}
	if got := text(t, ctx, "dd.score"); !strings.Contains(got, "9.8 (CRITICAL)") {
		t.Errorf("saved score = %q", got)
	}
	if s := submit(t, ctx, "#submit-review"); s != http.StatusOK {
		t.Fatalf("submit for review = %d", s)
	}
	if got := text(t, ctx, "#state"); got != "review" {
		t.Errorf("state = %q, want review", got)
	}
	noCSPViolations(t, ctx)
}
