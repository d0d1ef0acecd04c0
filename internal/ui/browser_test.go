package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/store/storetest"
	"focal/internal/ui"
)

// chromiumEnv names the Chromium binary for the browser tests.
const chromiumEnv = "FOCAL_TEST_CHROMIUM"

// chromiumPath returns the Chromium to drive: $FOCAL_TEST_CHROMIUM, else
// chromium on the PATH. Without one the test skips (fails in CI).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			storetest.Missing(tb, fmt.Sprintf("chromium not found: %s=%s does not exist; set %s or install chromium (apt-get install -y chromium)", chromiumEnv, p, chromiumEnv))
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	storetest.Missing(tb, "chromium not found: set "+chromiumEnv+" or install chromium (apt-get install -y chromium)")
	return ""
}

// browser starts a headless Chromium for the test and returns a context
// whose browser is running; every scenario opens its own browser context
// (cookies included) from it.
func browser(tb testing.TB) context.Context {
	tb.Helper()
	path := chromiumPath(tb)
	dir, err := os.MkdirTemp("", "focal-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Chromium's helpers may still write for a moment after it exits.
		for range 50 {
			if err := os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		tb.Logf("could not remove %s", dir)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		tb.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// tab opens a fresh browser context (no cookies shared with other tabs)
// and returns it with a deadline for the scenario.
func tab(tb testing.TB, parent context.Context) context.Context {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		tb.Fatal(err)
	}
	// Record Content-Security-Policy violations of every page, for
	// noCSPViolations: the UI must need no inline script or style.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = []; document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	tb.Cleanup(cancelT)
	return tctx
}

// browserApp runs a real App with organisations A and B, a coordinator
// and a constituent of each organisation, all with testPassword.
type browserApp struct {
	app        *app.App
	url        string
	orgA, orgB *focal.Organisation
}

func startApp(tb testing.TB) browserApp {
	tb.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	a := app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := a.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	b := browserApp{
		app: a,
		url: a.URL(),
		orgA: &focal.Organisation{Name: "Alpha Telecom", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
			Contacts: []focal.Contact{{Email: "abuse@alpha.example", Role: "abuse"}}},
		orgB: &focal.Organisation{Name: "Beta Bank", Sector: "banking", Country: "BE", Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
	}
	for _, o := range []*focal.Organisation{b.orgA, b.orgB} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			tb.Fatal(err)
		}
	}
	// The registry changed behind the API's back: rebuild the lookup
	// table, so the pipeline matches events to these organisations.
	a.ConstituencyChanged()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if t := a.Lookup.Load(); t != nil {
			if prefixes, _, _ := t.Len(); prefixes >= 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("the lookup table was not rebuilt with the new organisations")
		}
	}
	hash, err := auth.HashPassword(testPassword, cheapParams)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range []*focal.User{
		{Name: "coord", Role: focal.RoleCoordinator},
		{Name: "alice", Role: focal.RoleConstituent, OrgID: b.orgA.ID},
		{Name: "bob", Role: focal.RoleConstituent, OrgID: b.orgB.ID},
	} {
		if err := a.Store.CreateUser(sys, u, hash); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// must runs actions, failing the test with what was being done.
func must(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// submit clicks sel and waits for the page it leads to; it returns the
// HTTP status of that page.
func submit(tb testing.TB, ctx context.Context, sel string) int64 {
	tb.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

// open navigates to url and returns the HTTP status of the page.
func open(tb testing.TB, ctx context.Context, url string) int64 {
	tb.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// text returns the visible text of sel.
func text(tb testing.TB, ctx context.Context, sel string) string {
	tb.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// location returns the URL of the page shown.
func location(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		tb.Fatalf("location: %v", err)
	}
	return s
}

// noCSPViolations fails the test if the page shown broke the CSP.
func noCSPViolations(tb testing.TB, ctx context.Context) {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
	if err != nil {
		tb.Fatalf("read CSP violations: %v", err)
	}
	if len(v) > 0 {
		tb.Errorf("%s violates the Content-Security-Policy: %v", location(tb, ctx), v)
	}
}

// login fills in and submits the login form; it returns the status of
// the page it leads to.
func login(tb testing.TB, ctx context.Context, base, name, password string) int64 {
	tb.Helper()
	if s := open(tb, ctx, base+"/login"); s != http.StatusOK {
		tb.Fatalf("GET /login = %d, want 200", s)
	}
	must(tb, ctx, "fill in the login form",
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	)
	return submit(tb, ctx, `form[action="/login"] button[type="submit"]`)
}

// TestBrowser drives the UI in headless Chromium through the scenarios a
// person would: log in, register an organisation, be refused, mistype.
func TestBrowser(t *testing.T) {
	root := browser(t) // first: without Chromium, skip before starting anything
	b := startApp(t)

	t.Run("coordinator-creates-organisation", func(t *testing.T) {
		ctx := tab(t, root)
		if s := login(t, ctx, b.url, "coord", testPassword); s != http.StatusOK {
			t.Fatalf("login = %d, want 200 after the redirect", s)
		}
		if got := location(t, ctx); got != b.url+"/" {
			t.Errorf("after login at %s, want %s/", got, b.url)
		}
		if got := text(t, ctx, "main h1"); got != "Welcome, coord" {
			t.Errorf("dashboard h1 = %q, want Welcome, coord", got)
		}

		open(t, ctx, b.url+"/organisations/new")
		must(t, ctx, "fill in the organisation form",
			chromedp.SendKeys(chromedp.CSS("#f-name"), "Gamma Energy"),
			chromedp.SetValue(chromedp.CSS("#f-sector"), "energy"),
			chromedp.SendKeys(chromedp.CSS("#f-country"), "FR"),
			chromedp.SendKeys(chromedp.CSS("#f-networks"), "192.0.2.0/24\n2001:db8::/48"),
			chromedp.SendKeys(chromedp.CSS(`input[name="contact.0.email"]`), "abuse@gamma.example"),
		)
		if s := submit(t, ctx, "#save"); s != http.StatusOK {
			t.Fatalf("save = %d, want 200 after the redirect\n%s", s, text(t, ctx, "main"))
		}
		if got := location(t, ctx); !strings.Contains(got, "/organisations/") || !strings.HasSuffix(got, "?notice=created") {
			t.Errorf("after save at %s, want the new organisation's page", got)
		}
		main := text(t, ctx, "main")
		for _, want := range []string{"Gamma Energy", "Created.", "192.0.2.0/24", "2001:db8::/48", "abuse@gamma.example", "energy"} {
			if !strings.Contains(main, want) {
				t.Errorf("organisation page lacks %q:\n%s", want, main)
			}
		}

		open(t, ctx, b.url+"/organisations")
		if main := text(t, ctx, "#results"); !strings.Contains(main, "Gamma Energy") || !strings.Contains(main, "3 organisations.") {
			t.Errorf("organisation list lacks Gamma Energy:\n%s", main)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		shot := filepath.Join(t.TempDir(), "organisations.png")
		if err := os.WriteFile(shot, png, 0o600); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
			t.Errorf("screenshot %s: %d bytes, want a PNG", shot, len(png))
		}

		// Filter as you type: htmx swaps in the table, without a page load.
		must(t, ctx, "type a filter", chromedp.SendKeys(chromedp.CSS("#q"), "gam"))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#result-count').textContent.startsWith('1 organisation.')`,
			chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Errorf("the list did not filter as typed: %v\n%s", err, text(t, ctx, "#results"))
		}
		if got := text(t, ctx, "#results"); strings.Contains(got, "Alpha Telecom") {
			t.Errorf("filtered list still shows Alpha Telecom:\n%s", got)
		}
		if got := location(t, ctx); !strings.HasSuffix(got, "/organisations?q=gam&sector=&country=") {
			t.Errorf("after filtering at %s, want the filter in the URL", got)
		}
		noCSPViolations(t, ctx)

		if s := submit(t, ctx, "#logout"); s != http.StatusOK {
			t.Errorf("logout = %d, want 200 after the redirect", s)
		}
		if got := location(t, ctx); got != b.url+"/login" {
			t.Errorf("after logout at %s, want %s/login", got, b.url)
		}
		open(t, ctx, b.url+"/")
		if got := location(t, ctx); got != b.url+"/login?next=%2F" {
			t.Errorf("/ after logout at %s, want the login page", got)
		}
	})

	t.Run("constituent-sees-only-own-organisation", func(t *testing.T) {
		ctx := tab(t, root)
		login(t, ctx, b.url, "alice", testPassword)
		if got := text(t, ctx, "main"); !strings.Contains(got, "constituent of Alpha Telecom") {
			t.Errorf("dashboard does not name alice's organisation:\n%s", got)
		}
		open(t, ctx, b.url+"/organisations")
		if got := text(t, ctx, "main"); !strings.Contains(got, "Alpha Telecom") || strings.Contains(got, "Beta Bank") {
			t.Errorf("alice's organisation list = %q, want Alpha Telecom and not Beta Bank", got)
		}
		if s := open(t, ctx, fmt.Sprintf("%s/organisations/%d", b.url, b.orgA.ID)); s != http.StatusOK {
			t.Errorf("alice's own organisation = %d, want 200", s)
		}
		if got := text(t, ctx, "main h1"); got != "Alpha Telecom" {
			t.Errorf("alice's organisation page h1 = %q, want Alpha Telecom", got)
		}
		if s := open(t, ctx, fmt.Sprintf("%s/organisations/%d", b.url, b.orgB.ID)); s != http.StatusForbidden {
			t.Errorf("Beta Bank's page for alice = %d, want 403", s)
		}
		if got := text(t, ctx, "main"); !strings.Contains(got, "Forbidden") || strings.Contains(got, "Beta Bank") || strings.Contains(got, "203.0.113") {
			t.Errorf("the 403 page = %q, want Forbidden without Beta Bank's data", got)
		}
	})

	t.Run("wrong-password", func(t *testing.T) {
		ctx := tab(t, root)
		if s := login(t, ctx, b.url, "alice", "not the password"); s != http.StatusUnauthorized {
			t.Errorf("login with a wrong password = %d, want 401", s)
		}
		if got := text(t, ctx, "#login-error"); !strings.Contains(strings.ToLower(got), "wrong name or password") { // CSS capitalises the first letter
			t.Errorf("login error = %q, want wrong name or password", got)
		}
		if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#name"))); err != nil || got != "alice" {
			t.Errorf("login form name = %q, %v, want alice kept", got, err)
		}
		open(t, ctx, b.url+"/")
		if got := location(t, ctx); got != b.url+"/login?next=%2F" {
			t.Errorf("/ after a failed login at %s, want the login page", got)
		}
	})

	t.Run("validation-error-keeps-input", func(t *testing.T) {
		ctx := tab(t, root)
		login(t, ctx, b.url, "coord", testPassword)
		open(t, ctx, b.url+"/organisations/new")
		must(t, ctx, "fill in the organisation form",
			chromedp.SendKeys(chromedp.CSS("#f-name"), "Delta Water"),
			chromedp.SetValue(chromedp.CSS("#f-sector"), "drinking-water"),
			chromedp.SendKeys(chromedp.CSS("#f-country"), "FR"),
			chromedp.SendKeys(chromedp.CSS("#f-networks"), "192.0.2.0/24\n10.0.0.300/8"),
		)
		if s := submit(t, ctx, "#save"); s != http.StatusBadRequest {
			t.Errorf("save with a bad network = %d, want 400", s)
		}
		if got := text(t, ctx, "#error-summary"); !strings.Contains(got, "Networks: line 2: not a network in CIDR form") {
			t.Errorf("error summary = %q, want it to name Networks and the line", got)
		}
		if got := text(t, ctx, "#e-networks"); !strings.Contains(got, "10.0.0.300/8") {
			t.Errorf("message next to Networks = %q", got)
		}
		noCSPViolations(t, ctx)
		for sel, want := range map[string]string{"#f-name": "Delta Water", "#f-sector": "drinking-water", "#f-country": "FR", "#f-networks": "192.0.2.0/24\n10.0.0.300/8"} {
			if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel))); err != nil || got != want {
				t.Errorf("after the error %s = %q, %v, want %q kept", sel, got, err, want)
			}
		}
	})
}

// TestBrowserIncidents drives the incident handling in headless Chromium:
// a citizen reports, a handler triages, works and resolves the incident,
// and the metrics count it. It has its own server (and so its own login
// limiter), with a report form that may be sent after 300 ms.
func TestBrowserIncidents(t *testing.T) {
	root := browser(t) // first: without Chromium, skip before starting anything
	e := newEnv(t, func(c *ui.Config) {
		c.MinReportFillTime = 300 * time.Millisecond
		c.Extract = extract
	})
	base := e.srv.URL
	var ref string

	t.Run("citizen-reports", func(t *testing.T) {
		ctx := tab(t, root)
		if s := open(t, ctx, base+"/login"); s != http.StatusOK {
			t.Fatalf("GET /login = %d", s)
		}
		if s := submit(t, ctx, "#report-link"); s != http.StatusOK {
			t.Fatalf("the login page's report link = %d, want 200", s)
		}
		hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#f-website').getBoundingClientRect().right < 0`))
		if err != nil || !hidden {
			t.Errorf("the honeypot field is on screen (%v)", err)
		}
		question := text(t, ctx, `label[for="f-answer"]`)
		var a, b int
		if _, err := fmt.Sscanf(question, "What is %d plus %d?", &a, &b); err != nil {
			t.Fatalf("question %q: %v", question, err)
		}
		must(t, ctx, "fill in the report form",
			chromedp.SetValue(chromedp.CSS("#f-category"), "phishing"),
			chromedp.SendKeys(chromedp.CSS("#f-description"), "A mail from my bank asks me to log in at hxxp://bank-login.example/verify"),
			chromedp.SendKeys(chromedp.CSS("#f-email"), "citizen@example.org"),
			chromedp.Click(chromedp.CSS("#f-consent")),
			chromedp.SendKeys(chromedp.CSS("#f-answer"), fmt.Sprint(a+b)),
		)
		time.Sleep(300 * time.Millisecond) // the minimum fill time
		if s := submit(t, ctx, "#send"); s != http.StatusOK {
			t.Fatalf("send = %d, want 200 after the redirect\n%s", s, text(t, ctx, "main"))
		}
		if got := location(t, ctx); !strings.Contains(got, "/report/sent?") {
			t.Errorf("after sending at %s, want the receipt", got)
		}
		ref = text(t, ctx, "#ref")
		if !strings.HasPrefix(ref, "FOC-") {
			t.Fatalf("receipt reference = %q, want FOC-…", ref)
		}
		noCSPViolations(t, ctx)
	})
	if ref == "" {
		t.Fatal("no report to handle")
	}

	t.Run("handler-triages-and-resolves", func(t *testing.T) {
		ctx := tab(t, root)
		if s := login(t, ctx, base, "handler", testPassword); s != http.StatusOK {
			t.Fatalf("login = %d, want 200", s)
		}
		if got := strings.Join(strings.Fields(text(t, ctx, "#incident-counts")), " "); !strings.HasPrefix(got, "new 1 triaged 0") {
			t.Errorf("dashboard incident counts = %q, want new 1", got)
		}
		open(t, ctx, base+"/incidents?view=queue")
		if got := text(t, ctx, "#incident-table"); !strings.Contains(got, ref) || !strings.Contains(got, "Phishing or fraud") {
			t.Fatalf("the triage queue lacks %s:\n%s", ref, got)
		}
		noCSPViolations(t, ctx)
		// j selects the first row (triage.js); its link opens the incident.
		must(t, ctx, "press j", chromedp.KeyEvent("j"))
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)); err != nil || got != ref {
			t.Errorf("after j the focus is on %q (%v), want the link to %s", got, err, ref)
		}
		if s := submit(t, ctx, "#incident-table tbody tr.current a"); s != http.StatusOK {
			t.Fatalf("open the incident = %d", s)
		}
		if got := text(t, ctx, "main h1"); !strings.HasPrefix(got, ref) {
			t.Errorf("incident page h1 = %q, want %s…", got, ref)
		}
		if got := text(t, ctx, "#observables"); !strings.Contains(got, "hxxp://bank-login[.]example/verify") {
			t.Errorf("observables = %q, want the URL defanged", got)
		}
		if got := text(t, ctx, "#reporter"); !strings.Contains(got, "citizen@example.org") {
			t.Errorf("reporter = %q, want the e-mail", got)
		}

		must(t, ctx, "classify", chromedp.SetValue(chromedp.CSS("#f-classification"), "fraud/phishing"), chromedp.SetValue(chromedp.CSS("#f-severity"), "high"))
		if s := submit(t, ctx, "#save-triaged"); s != http.StatusOK {
			t.Fatalf("save and mark triaged = %d\n%s", s, text(t, ctx, "main"))
		}
		for _, st := range []string{"in_progress", "resolved"} {
			must(t, ctx, "choose "+st, chromedp.SetValue(chromedp.CSS("#f-status"), st))
			if s := submit(t, ctx, "#change-status"); s != http.StatusOK {
				t.Fatalf("change status to %s = %d\n%s", st, s, text(t, ctx, "main"))
			}
			if got := text(t, ctx, ".badges .status"); got != strings.ReplaceAll(st, "_", " ") {
				t.Errorf("status badge = %q, want %s", got, st)
			}
		}
		journal := text(t, ctx, "#journal-entries")
		for _, want := range []string{"status new → triaged", "status triaged → in_progress", "status in_progress → resolved", "severity medium → high"} {
			if !strings.Contains(journal, want) {
				t.Errorf("journal lacks %q:\n%s", want, journal)
			}
		}
		noCSPViolations(t, ctx)

		open(t, ctx, base+"/incidents/metrics")
		if got := text(t, ctx, "#metrics tbody"); !strings.HasPrefix(strings.Join(strings.Fields(got), " "), "All incidents 1 0 0") {
			t.Errorf("metrics = %q, want All incidents with 1 incident, none open", got)
		}
		// SVG has no innerText: read the chart's text content.
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#sla-chart').textContent`)); err != nil || !strings.Contains(got, "All incidents") || !strings.Contains(got, "100.0%") {
			t.Errorf("SLA chart = %q (%v), want All incidents at 100.0%%", got, err)
		}
		noCSPViolations(t, ctx)
	})
}
