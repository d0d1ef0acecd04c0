package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"focal/internal/focal"
	"focal/internal/pipeline"
)

// TestBrowserLive opens the live view as a constituent in headless
// Chromium and ingests a feed: the organisation's new event appears on
// the page through the event stream, another organisation's does not,
// and the page runs under the strict Content-Security-Policy.
func TestBrowserLive(t *testing.T) {
	root := browser(t)
	b := startApp(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	fd := &focal.FeedDef{Name: "live-test", Format: "iplist", TLP: focal.TLPAmber, Confidence: 80, Enabled: true,
		Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := b.app.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}
	ctx := tab(t, root)
	if s := login(t, ctx, b.url, "alice", testPassword); s != http.StatusOK {
		t.Fatalf("login = %d", s)
	}
	if s := open(t, ctx, b.url+"/live"); s != http.StatusOK {
		t.Fatalf("GET /live = %d", s)
	}
	// wait evaluates expr until it is true; an evaluation that fails
	// (the page's context being replaced) is tried again.
	wait := func(what, expr string) {
		t.Helper()
		var last error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			if err == nil && ok {
				return
			}
			last = err
		}
		t.Fatalf("%s (last error %v):\n%s", what, last, text(t, ctx, "main"))
	}
	wait("the live view did not connect to the stream", `document.querySelector('#live-status').dataset.state === 'open'`)
	// One address of Alpha's network, one of Beta's.
	if _, err := b.app.Pipeline.Ingest(sys, pipeline.Request{Feed: fd, Source: "test", Input: "live.txt",
		Body: strings.NewReader("198.51.100.44\n203.0.113.44\n")}); err != nil {
		t.Fatal(err)
	}
	wait("the new event did not appear on the live view", `document.querySelector('#live-events tbody').textContent.includes('198.51.100.44')`)
	rows := text(t, ctx, "#live-events")
	if strings.Contains(rows, "203.0.113.44") {
		t.Errorf("the live view of Alpha shows Beta's event:\n%s", rows)
	}
	if !strings.Contains(rows, "intrusion-attempts/brute-force") || !strings.Contains(rows, "live-test") {
		t.Errorf("the live row lacks the class or the feed:\n%s", rows)
	}
	noCSPViolations(t, ctx)
}
