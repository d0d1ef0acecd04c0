package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/ui"
)

// withPipeline gives the UI a pipeline on its store and an embedded bus,
// with one worker, matching addresses against the env's constituency (as
// it is when the option runs); *out receives it.
func withPipeline(tb testing.TB, out **pipeline.Pipeline) func(*ui.Config) {
	tb.Helper()
	return func(c *ui.Config) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		b, err := bus.Open(ctx, bus.Config{DataDir: tb.TempDir(), Name: "focal-ui-test"})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			if err := b.Close(); err != nil {
				tb.Errorf("close bus: %v", err)
			}
		})
		holder := &lookup.Holder{}
		holder.Store(c.Lookup())
		p := pipeline.New(pipeline.Config{Store: c.Store, Bus: b, Lookup: holder, Logger: slog.New(slog.DiscardHandler),
			Stream: "UITEST_" + rand.Text()[:10], Workers: 1})
		wctx, stop := context.WithCancel(context.Background())
		if err := p.Start(wctx); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { stop(); p.Wait() })
		c.Pipeline = p
		*out = p
	}
}

// wwEnv is an env with a pipeline, two feeds and a few events:
// 192.0.2.10 (Alpha), 192.0.2.200 (Alpha and Beta, whose networks
// overlap), 198.51.100.7 (nobody's) from an AMBER feed, and 192.0.2.11
// (Alpha) from a RED one.
type wwEnv struct {
	*env
	p      *pipeline.Pipeline
	feed   *focal.FeedDef // iplist, AMBER, brute force
	red    *focal.FeedDef // iplist, RED, scanners
	events map[string]int64
	run    *focal.FeedRun // the feed's run
}

func newWWEnv(tb testing.TB) *wwEnv {
	tb.Helper()
	w := &wwEnv{events: map[string]int64{}}
	w.env = newEnv(tb, withPipeline(tb, &w.p))
	w.feed = w.addFeed(tb, &focal.FeedDef{Name: "test-bruteforce", Format: "iplist", TLP: focal.TLPAmber, Confidence: 70, Enabled: true,
		Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
	w.red = w.addFeed(tb, &focal.FeedDef{Name: "test-red", Format: "iplist", TLP: focal.TLPRed, Confidence: 90, Enabled: true,
		Options: map[string]string{"class": "information-gathering", "type": "scanner"}})
	w.run = w.ingest(tb, w.feed, "# brute forcers\n192.0.2.10\n192.0.2.200\n198.51.100.7\nnot-an-address\n")
	w.ingest(tb, w.red, "192.0.2.11\n")
	list, _, err := w.st.Events(w.sys, focal.EventFilter{Limit: 100})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range list {
		w.events[e.Source.IP.String()] = e.ID
	}
	if len(w.events) != 4 {
		tb.Fatalf("events after ingest = %v, want 4 addresses", w.events)
	}
	return w
}

func (w *wwEnv) addFeed(tb testing.TB, fd *focal.FeedDef) *focal.FeedDef {
	tb.Helper()
	if err := w.st.CreateFeed(w.sys, fd); err != nil {
		tb.Fatal(err)
	}
	return fd
}

// ingest feeds body into fd and waits for the run to complete.
func (w *wwEnv) ingest(tb testing.TB, fd *focal.FeedDef, body string) *focal.FeedRun {
	tb.Helper()
	run, err := w.p.Ingest(w.sys, pipeline.Request{Feed: fd, Source: "test", Input: "test.txt", Body: strings.NewReader(body)})
	if err != nil {
		tb.Fatalf("ingest into %s: %v", fd.Name, err)
	}
	return w.waitRun(tb, run.ID)
}

func (w *wwEnv) waitRun(tb testing.TB, id int64) *focal.FeedRun {
	tb.Helper()
	ctx, cancel := context.WithTimeout(w.sys, 30*time.Second)
	defer cancel()
	run, err := w.p.WaitRun(ctx, id, nil)
	if err != nil {
		tb.Fatalf("run %d: %v", id, err)
	}
	return run
}

// upload posts a file as the feed upload form to path as the account
// label.
func (e *env) upload(tb testing.TB, as, path, name, content string) response {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if name != "" || content != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(fw, content); err != nil {
			tb.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: httpauth.CookieName, Value: e.sessions[as]})
	resp, err := e.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var h1Text = regexp.MustCompile(`<h1>([^<]*)`)

// checkPage fails unless r is a whole page with status 200 whose h1
// contains h1, with no inline style or script.
func checkPage(tb testing.TB, what string, r response, h1 string) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("%s = %d, want 200\n%s", what, r.status, r.body)
	}
	for _, want := range []string{`<!doctype html>`, `<main id="main"`, `</html>`} {
		if !strings.Contains(r.body, want) {
			tb.Errorf("%s lacks %q", what, want)
		}
	}
	if m := h1Text.FindStringSubmatch(r.body); m == nil || !strings.Contains(m[1], h1) {
		tb.Errorf("%s: h1 = %q, want it to contain %q", what, m, h1)
	}
	if strings.Contains(r.body, " style=") || strings.Contains(r.body, "<style") {
		tb.Errorf("%s has inline style, which the CSP blocks", what)
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(r.body) || strings.Contains(r.body, " onclick=") {
		tb.Errorf("%s has inline script, which the CSP blocks", what)
	}
}

// TestFeedPagesRender renders every feed page for every role allowed to
// see it, and checks that the others are refused.
func TestFeedPagesRender(t *testing.T) {
	w := newWWEnv(t)
	rule := &focal.AlertRule{Name: "Brute force", Feed: w.feed.Name, Threshold: 5, Window: time.Hour, Enabled: true}
	if err := w.st.CreateAlertRule(w.sys, rule); err != nil {
		t.Fatal(err)
	}
	feedPath, runPath := fmt.Sprintf("/feeds/%d", w.feed.ID), fmt.Sprintf("/runs/%d", w.run.ID)
	readers := []string{"coordinator", "handler", "analyst"}
	writers := []string{"coordinator", "analyst"}
	refused := []string{"assessor", "constituent", "peer"}
	tests := []struct {
		name, path string
		roles      []string
		h1         string
	}{
		{"feed-list", "/feeds", readers, "Feeds"},
		{"feed-new", "/feeds/new", writers, "New feed"},
		{"feed-detail", feedPath, readers, "Feed test-bruteforce"},
		{"feed-edit", feedPath + "/edit", writers, "Edit feed test-bruteforce"},
		{"run-detail", runPath, readers, fmt.Sprintf("Run %d of test-bruteforce", w.run.ID)},
		{"alert-rules", "/alert-rules", readers, "Alert rules"},
		{"alert-rule-edit", fmt.Sprintf("/alert-rules/%d/edit", rule.ID), writers, "Edit alert rule Brute force"},
	}
	for _, tt := range tests {
		for _, role := range tt.roles {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				checkPage(t, "GET "+tt.path+" as "+role, w.get(t, role, tt.path), tt.h1)
			})
		}
		for _, role := range refused {
			t.Run(tt.name+"/"+role+"-refused", func(t *testing.T) {
				if r := w.get(t, role, tt.path); r.status != http.StatusForbidden {
					t.Errorf("GET %s as %s = %d, want 403", tt.path, role, r.status)
				}
			})
		}
	}
	// What the pages show.
	list := w.get(t, "handler", "/feeds").body
	for _, want := range []string{"test-bruteforce", "<code>iplist</code>", "not polled", "run-done"} {
		if !strings.Contains(list, want) {
			t.Errorf("feed list lacks %q", want)
		}
	}
	if strings.Contains(list, `href="/feeds/new"`) {
		t.Errorf("feed list offers a handler to create a feed")
	}
	detail := w.get(t, "analyst", feedPath).body
	for _, want := range []string{`action="` + feedPath + `/upload"`, `enctype="multipart/form-data"`, "class=intrusion-attempts", `id="listing-counts"`,
		"listed <strong>0</strong>", "new <strong>3</strong>", `href="` + runPath + `"`, "no URL to poll"} {
		if !strings.Contains(detail, want) {
			t.Errorf("feed page for an analyst lacks %q", want)
		}
	}
	if d := w.get(t, "handler", feedPath).body; strings.Contains(d, "/upload") || strings.Contains(d, "/edit") || strings.Contains(d, "/delete") {
		t.Errorf("feed page offers a handler to upload, edit or delete")
	}
	run := w.get(t, "handler", runPath).body
	for _, want := range []string{`id="run-state">done`, `id="run-events">3 (3 new`, `id="problems"`, "not-an-address"} {
		if !strings.Contains(run, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(run, "hx-trigger") {
		t.Errorf("the page of a finished run still refreshes itself")
	}
	rules := w.get(t, "analyst", "/alert-rules").body
	for _, want := range []string{"Brute force", `action="/alert-rules"`, fmt.Sprintf(`href="/alert-rules/%d/edit"`, rule.ID)} {
		if !strings.Contains(rules, want) {
			t.Errorf("alert rules page lacks %q", want)
		}
	}
	if r := w.get(t, "handler", "/alert-rules").body; strings.Contains(r, `action="/alert-rules"`) || strings.Contains(r, "/edit") {
		t.Errorf("alert rules page offers a handler to create or edit rules")
	}
}

// Analysts manage feeds through the form; handlers may not.
func TestFeedForm(t *testing.T) {
	w := newWWEnv(t)
	form := url.Values{"name": {"feodo"}, "format": {"feodo-csv"}, "url": {"https://feodotracker.example/blocklist.csv"},
		"interval": {"1h"}, "tlp": {"GREEN"}, "confidence": {"80"}, "provider": {"abuse.ch"}, "dedup_fields": {"source.ip", "source.port"},
		"dedup_window": {"2d"}, "enabled": {"1"}}
	if r := w.post(t, "handler", "/feeds", form); r.status != http.StatusForbidden {
		t.Errorf("POST /feeds as handler = %d, want 403", r.status)
	}
	r := w.post(t, "analyst", "/feeds", form)
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?notice=created") {
		t.Fatalf("POST /feeds = %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
	fd, err := w.st.FeedByName(w.sys, "feodo")
	if err != nil {
		t.Fatal(err)
	}
	if fd.Interval != time.Hour || fd.TLP != focal.TLPGreen || fd.Confidence != 80 || fd.DedupWindow != 48*time.Hour ||
		strings.Join(fd.DedupFields, ",") != "source.ip,source.port" || !fd.Enabled || fd.Provider != "abuse.ch" {
		t.Errorf("stored feed = %+v", fd)
	}
	path := fmt.Sprintf("/feeds/%d", fd.ID)
	edit := w.get(t, "analyst", path+"/edit").body
	for _, want := range []string{`value="feodo"`, `value="1h"`, `value="2d"`, `value="source.ip" checked`, `<option value="feodo-csv" selected>`} {
		if !strings.Contains(edit, want) {
			t.Errorf("edit form lacks %q", want)
		}
	}

	bad := []struct {
		name  string
		set   url.Values
		field string
		msg   string
	}{
		{"unknown-format", url.Values{"format": {"nonsense"}}, "format", "choose a format"},
		{"unknown-option", url.Values{"options": {"colour=red"}}, "options", "unknown option"},
		{"option-line", url.Values{"options": {"colour"}}, "options", "want key=value"},
		{"bad-interval", url.Values{"interval": {"soon"}}, "interval", "want a duration"},
		{"short-interval", url.Values{"interval": {"10s"}}, "interval", "at least"},
		{"bad-name", url.Values{"name": {"Feodo Tracker"}}, "name", "lower-case"},
		{"bad-confidence", url.Values{"confidence": {"101"}}, "confidence", "0 to 100"},
		{"taken-name", url.Values{"name": {"test-red"}}, "name", "already exists"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("name", "another")
			for k, v := range tt.set {
				f[k] = v
			}
			r := w.post(t, "analyst", "/feeds", f)
			if r.status != http.StatusBadRequest {
				t.Fatalf("POST /feeds with %v = %d, want 400", tt.set, r.status)
			}
			if !strings.Contains(r.body, `id="e-`+tt.field+`"`) || !strings.Contains(r.body, tt.msg) {
				t.Errorf("the form does not say %q next to %s:\n%s", tt.msg, tt.field, r.body)
			}
			if !strings.Contains(r.body, `value="abuse.ch"`) {
				t.Errorf("the form lost the typed values")
			}
		})
	}

	// iplist needs its options.
	if r := w.post(t, "analyst", "/feeds", url.Values{"name": {"list"}, "format": {"iplist"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-options"`) {
		t.Errorf("an iplist feed without options = %d, want 400 about the options", r.status)
	}

	form.Set("interval", "")
	form.Set("class", "malicious-code/c2-server")
	if r := w.post(t, "analyst", path, form); r.status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d\n%s", path, r.status, r.body)
	}
	if fd, _ = w.st.Feed(w.sys, fd.ID); fd.Interval != 0 || fd.Class != "malicious-code" || fd.Type != "c2-server" {
		t.Errorf("updated feed = %+v", fd)
	}
	// Not polled: "poll now" is a conflict.
	if r := w.post(t, "analyst", path+"/run", url.Values{}); r.status != http.StatusConflict || !strings.Contains(r.body, "not polled") {
		t.Errorf("poll now of a feed without interval = %d, want 409", r.status)
	}
	form.Set("interval", "1h")
	if r := w.post(t, "analyst", path, form); r.status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d", path, r.status)
	}
	before := time.Now().Add(-time.Second)
	if r := w.post(t, "handler", path+"/run", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("poll now as handler = %d, want 403", r.status)
	}
	if r := w.post(t, "analyst", path+"/run", url.Values{}); r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?notice=scheduled") {
		t.Errorf("poll now = %d %s", r.status, r.header.Get("Location"))
	}
	if fd, _ = w.st.Feed(w.sys, fd.ID); fd.NextRun.Before(before) || fd.NextRun.After(time.Now().Add(time.Second)) {
		t.Errorf("next run after poll now = %v, want now", fd.NextRun)
	}
	if r := w.post(t, "handler", path+"/delete", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("delete as handler = %d, want 403", r.status)
	}
	if r := w.post(t, "analyst", path+"/delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Errorf("delete = %d", r.status)
	}
	if _, err := w.st.Feed(w.sys, fd.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
		t.Errorf("feed after delete: %v, want not found", err)
	}
}

// An analyst uploads a file on a feed's page: it is ingested as a run,
// whose page shows the counts and the quarantined lines.
func TestFeedUpload(t *testing.T) {
	w := newWWEnv(t)
	path := fmt.Sprintf("/feeds/%d/upload", w.feed.ID)
	if r := w.upload(t, "handler", path, "list.txt", "192.0.2.50\n"); r.status != http.StatusForbidden {
		t.Errorf("upload as handler = %d, want 403", r.status)
	}
	if r := w.upload(t, "analyst", path, "", ""); r.status != http.StatusBadRequest || !strings.Contains(r.body, "choose a file") {
		t.Errorf("upload without a file = %d, want 400 asking for one\n%s", r.status, r.body)
	}
	r := w.upload(t, "analyst", path, "list.txt", "192.0.2.50\n192.0.2.51\nbogus\n")
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/runs/") {
		t.Fatalf("upload = %d %q, want a redirect to the run\n%s", r.status, loc, r.body)
	}
	var id int64
	if _, err := fmt.Sscanf(loc, "/runs/%d", &id); err != nil {
		t.Fatal(err)
	}
	run := w.waitRun(t, id)
	if run.Source != "upload" || run.Input != "list.txt" || run.Events != 2 || run.Problems != 1 {
		t.Errorf("uploaded run = %+v", run)
	}
	page := w.get(t, "analyst", loc).body
	for _, want := range []string{"list.txt", `id="run-state">done`, "bogus"} {
		if !strings.Contains(page, want) {
			t.Errorf("run page lacks %q", want)
		}
	}

	// An input the format refuses fails its run, whose page says why.
	feodo := w.addFeed(t, &focal.FeedDef{Name: "feodo", Format: "feodo-csv", Enabled: true})
	r = w.upload(t, "coordinator", fmt.Sprintf("/feeds/%d/upload", feodo.ID), "wrong.csv", "# \"a\",\"b\"\n\"1\",\"2\"\n")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/runs/") {
		t.Fatalf("upload of a wrong file = %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	page = w.get(t, "coordinator", r.header.Get("Location")).body
	if !strings.Contains(page, `id="run-state">failed`) || !strings.Contains(page, "does not look like feodo-csv") {
		t.Errorf("the failed run's page does not say why:\n%s", page)
	}
}

// Analysts keep alert rules; handlers read them.
func TestAlertRuleForm(t *testing.T) {
	w := newWWEnv(t)
	form := url.Values{"name": {"Botnet at Alpha"}, "org": {fmt.Sprint(w.orgA.ID)}, "class": {"malicious-code"}, "feed": {w.feed.Name},
		"threshold": {"3"}, "window": {"2h"}, "severity": {"high"}, "enabled": {"1"}}
	if r := w.post(t, "handler", "/alert-rules", form); r.status != http.StatusForbidden {
		t.Errorf("POST /alert-rules as handler = %d, want 403", r.status)
	}
	if r := w.post(t, "analyst", "/alert-rules", form); r.status != http.StatusSeeOther {
		t.Fatalf("POST /alert-rules = %d\n%s", r.status, r.body)
	}
	rules, err := w.st.AlertRules(w.sys)
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules = %v, %v", rules, err)
	}
	ar := rules[0]
	if ar.OrgID != w.orgA.ID || ar.Class != "malicious-code" || ar.Type != "" || ar.Threshold != 3 || ar.Window != 2*time.Hour || ar.Severity != focal.SeverityHigh {
		t.Errorf("stored rule = %+v", ar)
	}
	list := w.get(t, "handler", "/alert-rules").body
	for _, want := range []string{"Botnet at Alpha", "Alpha Telecom", "Malicious Code", "2h"} {
		if !strings.Contains(list, want) {
			t.Errorf("rule list lacks %q", want)
		}
	}
	for _, tt := range []struct {
		name, key, value, field string
	}{
		{"bad-window", "window", "a while", "window"},
		{"bad-feed", "feed", "nope", "feed"},
		{"bad-threshold", "threshold", "0", "threshold"},
		{"bad-class", "class", "malicious-code/nope", "class"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("name", "Another")
			f.Set(tt.key, tt.value)
			r := w.post(t, "analyst", "/alert-rules", f)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-`+tt.field+`"`) {
				t.Errorf("POST with %s=%q = %d, want 400 next to %s\n%s", tt.key, tt.value, r.status, tt.field, r.body)
			}
		})
	}
	path := fmt.Sprintf("/alert-rules/%d", ar.ID)
	form.Set("threshold", "7")
	form.Del("enabled")
	if r := w.post(t, "analyst", path, form); r.status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d\n%s", path, r.status, r.body)
	}
	if ar, _ = w.st.AlertRule(w.sys, ar.ID); ar.Threshold != 7 || ar.Enabled {
		t.Errorf("updated rule = %+v", ar)
	}
	if r := w.post(t, "coordinator", path+"/delete", url.Values{}); r.status != http.StatusSeeOther {
		t.Errorf("delete = %d", r.status)
	}
	if _, err := w.st.AlertRule(w.sys, ar.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
		t.Errorf("rule after delete: %v", err)
	}
}
