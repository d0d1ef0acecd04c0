package ui_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWatch drives watch and warning in headless Chromium: a
// coordinator explores the events a few feed runs brought, narrows them to
// one organisation (htmx swaps the results in), and uploads a small file
// on a feed's page, then follows its run to the end.
func TestBrowserWatch(t *testing.T) {
	root := browser(t) // first: without Chromium, skip before starting anything
	w := newWWEnv(t)
	base := w.srv.URL
	ctx := tab(t, root)
	if s := login(t, ctx, base, "coordinator", testPassword); s != http.StatusOK {
		t.Fatalf("login = %d, want 200", s)
	}

	if s := open(t, ctx, base+"/events"); s != http.StatusOK {
		t.Fatalf("GET /events = %d", s)
	}
	if got := text(t, ctx, "#result-count"); !strings.HasPrefix(got, "4 events") {
		t.Errorf("result count = %q, want 4 events", got)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#events-chart rect').length`))
	if err != nil || bars == 0 {
		t.Errorf("the events chart has %d bars (%v), want some", bars, err)
	}
	noCSPViolations(t, ctx)

	// Choosing an organisation filters at once: htmx swaps the results.
	must(t, ctx, "choose Beta Bank", chromedp.SetValue(chromedp.CSS("#org"), fmt.Sprint(w.orgB.ID)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#org').dispatchEvent(new Event('input', {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#result-count').textContent.startsWith('1 event ')`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the events did not filter by organisation: %v\n%s", err, text(t, ctx, "#results"))
	}
	table := text(t, ctx, "#event-table")
	if !strings.Contains(table, "192.0.2.200") || strings.Contains(table, "192.0.2.10\t") || strings.Contains(table, "198.51.100.7") {
		t.Errorf("Beta Bank's events:\n%s\nwant 192.0.2.200 alone", table)
	}
	if got := location(t, ctx); !strings.Contains(got, fmt.Sprintf("org=%d", w.orgB.ID)) {
		t.Errorf("after filtering at %s, want the organisation in the URL", got)
	}
	noCSPViolations(t, ctx)

	// Upload a file on the feed's page and follow its run.
	file := filepath.Join(t.TempDir(), "attackers.txt")
	if err := os.WriteFile(file, []byte("# seen today\n192.0.2.77\n192.0.2.78\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s := open(t, ctx, fmt.Sprintf("%s/feeds/%d", base, w.feed.ID)); s != http.StatusOK {
		t.Fatalf("feed page = %d", s)
	}
	must(t, ctx, "choose the file", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{file}))
	if s := submit(t, ctx, "#upload-file"); s != http.StatusOK {
		t.Fatalf("upload = %d, want 200 after the redirect\n%s", s, text(t, ctx, "main"))
	}
	if got := location(t, ctx); !strings.Contains(got, "/runs/") {
		t.Fatalf("after the upload at %s, want the run's page", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#run-state').textContent === 'done'`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the run did not finish on its page: %v\n%s", err, text(t, ctx, "main"))
	}
	if got := text(t, ctx, "#run-events"); !strings.HasPrefix(got, "2 (2 new") {
		t.Errorf("run events = %q, want 2 new", got)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, "attackers.txt") {
		t.Errorf("the run's page does not name the file:\n%s", got)
	}
	noCSPViolations(t, ctx)
}
