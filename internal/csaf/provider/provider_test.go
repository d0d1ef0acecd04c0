package provider_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/auth"
	"focal/internal/csaf"
	"focal/internal/csaf/provider"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

func sys() context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.System())
}

func asUser(u *focal.User) context.Context {
	return focal.NewContextWithPrincipal(context.Background(), u.Principal())
}

// env is a running focal HTTPS server with the provider mounted as the
// app mounts it, a team key, a handler (hal) and an analyst (ana) who
// approves, and a constituent (con).
type env struct {
	t      testing.TB
	st     *store.Store
	url    string
	caPEM  []byte
	client *http.Client
	signer *csaf.Signer
	pubKey []byte
	users  map[string]*focal.User
	org    int64
}

func newEnv(tb testing.TB, d store.Dialect) *env {
	tb.Helper()
	st := storetest.Open(tb, d)
	e := &env{t: tb, st: st, users: map[string]*focal.User{}}
	ctx := sys()
	o := &focal.Organisation{Name: "Org A", Sector: "isp", Country: "FR", Contacts: []focal.Contact{{Email: "abuse@a.example", Role: "abuse"}}}
	if err := st.CreateOrganisation(ctx, o); err != nil {
		tb.Fatal(err)
	}
	e.org = o.ID
	for _, u := range []*focal.User{
		{Name: "hal", Role: focal.RoleHandler}, {Name: "ana", Role: focal.RoleAnalyst},
		{Name: "con", Role: focal.RoleConstituent, OrgID: o.ID},
	} {
		if err := st.CreateUser(ctx, u, ""); err != nil {
			tb.Fatal(err)
		}
		e.users[u.Name] = u
	}
	if err := st.SetTeamProfile(ctx, &focal.TeamProfile{Name: "CERT-Test", ShortName: "CERT-T", Email: "cert@test.example", Website: "https://cert.test.example"}); err != nil {
		tb.Fatal(err)
	}
	priv, pub, _, err := csaf.GenerateKey("CERT-Test", "cert@test.example", "", 0)
	if err != nil {
		tb.Fatal(err)
	}
	e.pubKey = pub
	if e.signer, err = csaf.NewSigner(string(priv), ""); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := provider.New(provider.Config{Store: st, Logger: logger, Signer: e.signer, MailFrom: "CERT-Test <cert@test.example>",
		Publisher: csaf.Publisher{Name: "CERT-Test", Namespace: "https://cert.test.example"}})
	if err != nil {
		tb.Fatal(err)
	}
	a := httpauth.New(st, logger)
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Burst: 1000, FailuresBeforeLockout: -1})
	tlsCfg, caPEM, err := taxii.SelfSigned(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	srv := &server.Server{
		Addr: "127.0.0.1:0", Logger: logger, Registry: prometheus.NewRegistry(),
		Authenticate: a.Authenticate, Protect: http.NewCrossOriginProtection().Handler, TLSConfig: tlsCfg,
		PrefixErrors: map[string]server.ErrorFunc{provider.PathPrefix: p.Error},
	}
	if err := srv.Mount(p.Routes(), p.Error); err != nil {
		tb.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	e.url, e.caPEM = srv.URL(), caPEM
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	e.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// token returns a bearer token of user name.
func (e *env) token(name string) string {
	e.t.Helper()
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateToken(sys(), &focal.Token{UserID: e.users[name].ID, Scope: "write", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) get(path, token string) resp {
	return e.do("GET", path, token)
}

func (e *env) do(method, path, token string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// publish writes, submits (as hal) and approves (through the API, as
// ana) an advisory labelled tlp.
func (e *env) publish(title string, tlp focal.TLP, anaToken string) *store.Advisory {
	e.t.Helper()
	a := &store.Advisory{Body: csaf.Advisory{
		Title: title, Summary: "Update " + title + ".", TLP: tlp,
		Products: []csaf.Product{{Vendor: "Example", Name: "Widget", Version: "1.0"}, {Vendor: "Example", Name: "Widget", Version: "1.1"}},
		Vulnerabilities: []csaf.Vulnerability{{CVE: fmt.Sprintf("CVE-2026-%d", 10000+len(title)), Description: "Broken.",
			CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", CWE: "CWE-79", CWEName: "Cross-site Scripting",
			Affected: []string{"CSAFPID-0001"}, Fixed: []string{"CSAFPID-0002"},
			Remediations: []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 1.1."}}}},
	}}
	hal := asUser(e.users["hal"])
	if err := e.st.CreateAdvisory(hal, a); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.SubmitAdvisory(hal, a.ID); err != nil {
		e.t.Fatal(err)
	}
	if r := e.do("POST", fmt.Sprintf("/api/v1/advisories/%d/approve", a.ID), anaToken); r.status != http.StatusOK {
		e.t.Fatalf("approve = %d %s", r.status, r.body)
	}
	return a
}

func TestProviderServes(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			ana, hal, con := e.token("ana"), e.token("hal"), e.token("con")
			// The author may not approve; nothing is published.
			a := &store.Advisory{Body: csaf.Advisory{Title: "Draft", TLP: focal.TLPClear}}
			if err := e.st.CreateAdvisory(asUser(e.users["hal"]), a); err != nil {
				t.Fatal(err)
			}
			if r := e.do("POST", fmt.Sprintf("/api/v1/advisories/%d/approve", a.ID), hal); r.status != http.StatusConflict {
				t.Errorf("approve(draft) = %d %s", r.status, r.body)
			}
			if r := e.do("POST", fmt.Sprintf("/api/v1/advisories/%d/approve", a.ID), con); r.status != http.StatusForbidden {
				t.Errorf("approve(constituent) = %d", r.status)
			}
			e.publish("Widget XSS", focal.TLPClear, ana)
			e.publish("Widget secret", focal.TLPAmber, ana)
			// The UI's approve button: refusals go back to the advisory
			// with the reason; success to the published advisory.
			b := &store.Advisory{Body: csaf.Advisory{Title: "Form", TLP: focal.TLPClear}}
			if err := e.st.CreateAdvisory(asUser(e.users["hal"]), b); err != nil {
				t.Fatal(err)
			}
			if r := e.do("POST", fmt.Sprintf("/advisories/%d/approve", b.ID), ana); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "error=only+an+advisory+in+review") {
				t.Errorf("UI approve(draft) = %d %s", r.status, r.header.Get("Location"))
			}
			if r := e.do("POST", fmt.Sprintf("/advisories/%d/approve", b.ID), ""); r.status != http.StatusUnauthorized {
				t.Errorf("UI approve(anonymous) = %d", r.status)
			}

			r := e.get(provider.PathPrefix+"provider-metadata.json", "")
			if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("PMD = %d %q", r.status, r.header.Get("Content-Type"))
			}
			var pmd struct {
				Role string `json:"role"`
				Keys []struct {
					Fingerprint, URL string
				} `json:"public_openpgp_keys"`
			}
			if err := json.Unmarshal(r.body, &pmd); err != nil || pmd.Role != "csaf_trusted_provider" || len(pmd.Keys) != 1 || pmd.Keys[0].Fingerprint != e.signer.Fingerprint() {
				t.Errorf("PMD = %s", r.body)
			}
			idx := e.get(provider.PathPrefix+"white/index.txt", "")
			lines := strings.Fields(string(idx.body))
			if len(lines) != 1 || !strings.HasPrefix(lines[0], fmt.Sprint(time.Now().Year())+"/cert-t-") {
				t.Fatalf("index.txt = %q", idx.body)
			}
			doc := e.get(provider.PathPrefix+"white/"+lines[0], "")
			sig := e.get(provider.PathPrefix+"white/"+lines[0]+".asc", "")
			if doc.header.Get("Content-Type") != "application/json" || csaf.Verify(e.pubKey, doc.body, sig.body) != nil {
				t.Errorf("document %d / signature does not verify", doc.status)
			}
			if err := csaf.ValidateDocument(doc.body); err != nil {
				t.Error(err)
			}
			// AMBER: only with an account.
			if r := e.get(provider.PathPrefix+"amber/index.txt", ""); r.status != http.StatusUnauthorized {
				t.Errorf("amber index anonymously = %d", r.status)
			}
			if r := e.get(provider.PathPrefix+"amber/csaf-feed-tlp-amber.json", hal); r.status != 200 || !strings.Contains(string(r.body), "Widget secret") {
				t.Errorf("amber feed with a token = %d", r.status)
			}
			if r := e.get(provider.PathPrefix+"red/index.txt", con); r.status != http.StatusForbidden {
				t.Errorf("red folder as constituent = %d", r.status)
			}
			st := e.get("/.well-known/security.txt", "")
			for _, want := range []string{"BEGIN PGP SIGNED MESSAGE", "Contact: mailto:cert@test.example", "Expires: ", "Encryption: ", "Policy: ", "Preferred-Languages: en", "Canonical: ", "CSAF: " + e.url + provider.PathPrefix + "provider-metadata.json"} {
				if !strings.Contains(string(st.body), want) {
					t.Errorf("security.txt lacks %q:\n%s", want, st.body)
				}
			}
			// The concerned organisation was not notified: it declared nothing.
			if err := e.st.SetOrgProducts(sys(), e.org, []store.ProductDeclaration{{Vendor: "example", Product: "*"}}); err != nil {
				t.Fatal(err)
			}
			e.publish("Widget again", focal.TLPGreen, ana)
			ns, err := e.st.Notifications(sys(), e.org, 10)
			if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Subject, "Widget again") {
				t.Errorf("notifications = %+v, %v", ns, err)
			}
		})
	}
}

// csafBin finds a gocsaf tool on $FOCAL_TEST_CSAF_BIN or PATH; without it
// the test skips, or fails when FOCAL_TEST_REQUIRE_SERVICES=1.
func csafBin(tb testing.TB, name string) string {
	tb.Helper()
	if dir := os.Getenv("FOCAL_TEST_CSAF_BIN"); dir != "" {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " not found on PATH or in $FOCAL_TEST_CSAF_BIN: install it with GOTOOLCHAIN=local go install github.com/gocsaf/csaf/v3/cmd/" + name + "@v3.7.0"
	if os.Getenv("FOCAL_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

type checkerReport struct {
	Domains []struct {
		Role         string `json:"role"`
		Passed       bool   `json:"passed"`
		Requirements []struct {
			Num         int    `json:"num"`
			Description string `json:"description"`
			Messages    []struct {
				Type int    `json:"type"`
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"requirements"`
	} `json:"domains"`
}

// runChecker runs csaf_checker on the provider, with extra arguments,
// and returns its report.
func (e *env) runChecker(bin string, args ...string) checkerReport {
	e.t.Helper()
	return e.runCheckerOn(bin, e.url+provider.PathPrefix+"provider-metadata.json", args...)
}

// runCheckerOn runs csaf_checker on target: the provider metadata's URL,
// or host:port for the checker's discovery (domain mode).
func (e *env) runCheckerOn(bin, target string, args ...string) checkerReport {
	e.t.Helper()
	out := filepath.Join(e.t.TempDir(), "report.json")
	args = append([]string{"--insecure", "-f", "json", "-o", out}, args...)
	args = append(args, target)
	cmd := exec.Command(bin, args...)
	log, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("csaf_checker: %v\n%s", err, log)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		e.t.Fatal(err)
	}
	var rep checkerReport
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Domains) != 1 {
		e.t.Fatalf("report: %v\n%s", err, b)
	}
	return rep
}

// TestChecker is the BSI checker against a running focal: a passing
// trusted provider with no error in the ROLIE requirements (1–7, 15–20)
// nor in the directory ones (11–14), without and with credentials; the
// AMBER document is not readable without them.
func TestChecker(t *testing.T) {
	bin := csafBin(t, "csaf_checker")
	e := newEnv(t, store.SQLite)
	ana := e.token("ana")
	e.publish("Widget XSS", focal.TLPClear, ana)
	e.publish("Gadget flaw", focal.TLPClear, ana)
	e.publish("Widget secret", focal.TLPAmber, ana)
	for _, run := range []struct {
		name string
		args []string
	}{
		{"anonymous", nil},
		{"token", []string{"-H", "Authorization:Bearer " + e.token("hal")}},
	} {
		t.Run(run.name, func(t *testing.T) {
			rep := e.runChecker(bin, run.args...)
			d := rep.Domains[0]
			if !d.Passed || d.Role != "csaf_trusted_provider" {
				t.Errorf("passed = %v, role = %q", d.Passed, d.Role)
			}
			checked := map[int]bool{}
			for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20} {
				checked[n] = true
			}
			for _, r := range d.Requirements {
				for _, m := range r.Messages {
					if m.Type == 2 && checked[r.Num] {
						t.Errorf("requirement %d (%s): %s", r.Num, r.Description, m.Text)
					}
					if testing.Verbose() {
						t.Logf("req %d type %d: %s", r.Num, m.Type, m.Text)
					}
				}
			}
		})
	}
	// Domain mode: the checker discovers the provider at
	// /.well-known/csaf/provider-metadata.json and through security.txt
	// (requirements 8 and 9); 10 (DNS) cannot pass offline.
	t.Run("domain", func(t *testing.T) {
		rep := e.runCheckerOn(bin, strings.TrimPrefix(e.url, "https://"))
		d := rep.Domains[0]
		if !d.Passed {
			t.Errorf("domain mode: passed = false")
		}
		for _, r := range d.Requirements {
			for _, m := range r.Messages {
				if (r.Num == 8 || r.Num == 9) && m.Type != 0 {
					t.Errorf("requirement %d: %s", r.Num, m.Text)
				}
			}
		}
	})
	// What the checker found in the AMBER folder is not readable anonymously.
	idx := e.get(provider.PathPrefix+"amber/index.txt", e.token("hal"))
	for _, l := range strings.Fields(string(idx.body)) {
		if r := e.get(provider.PathPrefix+"amber/"+l, ""); r.status != http.StatusUnauthorized {
			t.Errorf("GET amber/%s anonymously = %d, want 401", l, r.status)
		}
	}
}

// TestDownloader: csaf_downloader fetches every advisory with zero
// checksum and signature failures.
func TestDownloader(t *testing.T) {
	bin := csafBin(t, "csaf_downloader")
	e := newEnv(t, store.SQLite)
	ana := e.token("ana")
	e.publish("Widget XSS", focal.TLPClear, ana)
	e.publish("Gadget flaw", focal.TLPClear, ana)
	e.publish("Widget secret", focal.TLPAmber, ana)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--insecure", "-d", dir, "--log_file", filepath.Join(dir, "downloader.log"),
		"-H", "Authorization:Bearer "+e.token("hal"), e.url+provider.PathPrefix+"provider-metadata.json")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("csaf_downloader: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "downloader.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stats string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Download statistics") {
			stats = sc.Text()
		}
	}
	if stats == "" {
		t.Fatal("no download statistics in the log")
	}
	for _, want := range []string{`"succeeded":3`, `"total_failed":0`, `"sha256_failed":0`, `"sha512_failed":0`, `"signature_failed":0`, `"schema_failed":0`} {
		if !strings.Contains(strings.ReplaceAll(stats, " ", ""), want) {
			t.Errorf("statistics lack %s: %s", want, stats)
		}
	}
	var docs []string
	if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			docs = append(docs, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Errorf("downloaded %v, want 3 documents", docs)
	}
	// csaf_validator accepts each (exit code bit 2 clear).
	val := csafBin(t, "csaf_validator")
	for _, p := range docs {
		out, err := exec.Command(val, p).CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !(errorsAs(err, &ee) && ee.ExitCode()&2 == 0) {
			t.Errorf("csaf_validator %s: %v\n%s", p, err, out)
		}
		for _, bad := range []string{"is not a valid advisory name", "does not match document/tracking/id", "error:"} {
			if strings.Contains(string(out), bad) {
				t.Errorf("csaf_validator %s: %s", p, out)
			}
		}
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
