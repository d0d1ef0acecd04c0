package csaf_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
)

var update = flag.Bool("update", false, "rewrite golden files")

var cvssTests = []struct {
	vector string
	score  float64
	sev    string
}{
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"},
	{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"},
	{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "MEDIUM"},
	{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "LOW"},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, "CRITICAL"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE"},
	{"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8, "HIGH"},
	{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2, "HIGH"},
	{"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 6.5, "MEDIUM"},
	{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", 5.4, "MEDIUM"},
	{"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H", 7.8, "HIGH"},
	{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "LOW"},
	{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", 6.5, "MEDIUM"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8, "CRITICAL"},
	{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"},
	{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM"},
}

func TestCVSSBaseScore(t *testing.T) {
	for _, tt := range cvssTests {
		t.Run(strings.ReplaceAll(tt.vector, "/", "_"), func(t *testing.T) {
			c, err := csaf.ParseCVSS(tt.vector)
			if err != nil {
				t.Fatalf("ParseCVSS(%q) = %v", tt.vector, err)
			}
			if got := c.BaseScore(); got != tt.score {
				t.Errorf("BaseScore(%q) = %v, want %v", tt.vector, got, tt.score)
			}
			if got := csaf.Severity(c.BaseScore()); got != tt.sev {
				t.Errorf("Severity(%q) = %v, want %v", tt.vector, got, tt.sev)
			}
		})
	}
}

var badVectors = []struct{ vector, want string }{
	{"", "empty"},
	{"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "starts with"},
	{"CVSS:2.0/AV:N", "starts with"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks A (availability impact)"},
	{"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV must be one of"},
	{"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "twice"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "not a CVSS v3 metric"},
	{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "not a metric"},
}

func TestParseCVSSBad(t *testing.T) {
	for _, tt := range badVectors {
		_, err := csaf.ParseCVSS(tt.vector)
		if err == nil || !strings.Contains(focal.ErrorMessage(err), tt.want) {
			t.Errorf("ParseCVSS(%q) = %v, want error containing %q", tt.vector, err, tt.want)
		}
		if focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("ParseCVSS(%q) code = %q, want invalid", tt.vector, focal.ErrorCode(err))
		}
	}
}

func FuzzParseCVSS(f *testing.F) {
	for _, tt := range cvssTests {
		f.Add(tt.vector)
	}
	for _, tt := range badVectors {
		f.Add(tt.vector)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := csaf.ParseCVSS(s)
		if err != nil {
			if focal.ErrorCode(err) != focal.EINVALID {
				t.Fatalf("ParseCVSS(%q) code %q", s, focal.ErrorCode(err))
			}
			return
		}
		score := c.BaseScore()
		if score < 0 || score > 10 {
			t.Fatalf("BaseScore(%q) = %v", s, score)
		}
		again, err := csaf.ParseCVSS(c.String())
		if err != nil || again.BaseScore() != score {
			t.Fatalf("ParseCVSS(String(%q)) = %v, %v", s, again, err)
		}
	})
}

// sample returns a publishable advisory with its tracking fields set.
func sample() *csaf.Advisory {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := &csaf.Advisory{
		TrackingID: "FOCAL-2026-0001",
		Title:      "Remote code execution in Example Router firmware",
		Summary:    "Example Router firmware before 2.4.1 lets an unauthenticated attacker run code. Update to 2.4.1.",
		TLP:        focal.TLPClear,
		Products: []csaf.Product{
			{Vendor: "Example Networks", Name: "Example Router", Version: "2.4.0"},
			{Vendor: "Example Networks", Name: "Example Router", Version: "2.4.1"},
		},
		Vulnerabilities: []csaf.Vulnerability{{
			CVE: "CVE-2026-12345", Description: "A stack overflow in the web interface.",
			CWE: "CWE-121", CWEName: "Stack-based Buffer Overflow",
			CVSS:     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Affected: []string{"CSAFPID-0001"}, Fixed: []string{"CSAFPID-0002"},
			Remediations: []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 2.4.1.", URL: "https://example.com/fw"}},
		}},
		References:     []csaf.Reference{{URL: "https://example.com/advisory", Summary: "Vendor advisory"}},
		Publisher:      csaf.Publisher{Category: "coordinator", Name: "CERT-EX", Namespace: "https://cert.example"},
		Version:        "1",
		Status:         "final",
		InitialRelease: at,
		CurrentRelease: at,
		Revisions:      []csaf.Revision{{Number: "1", Date: at, Summary: "Initial version"}},
	}
	a.Normalize()
	return a
}

func TestDocumentValidates(t *testing.T) {
	a := sample()
	if ps := a.Check(); len(ps) != 0 {
		t.Fatalf("Check() = %v", ps)
	}
	if a.Severity != "Critical" || a.Vulnerabilities[0].Score != 9.8 {
		t.Errorf("Normalize: severity %q score %v, want Critical 9.8", a.Severity, a.Vulnerabilities[0].Score)
	}
	b, err := csaf.Document(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := csaf.ValidateDocument(b); err != nil {
		t.Fatalf("ValidateDocument: %v\n%s", err, b)
	}
	golden := "testdata/roundtrip/focal-2026-0001.json"
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("Document(sample) differs from %s (go test -update):\n%s", golden, b)
	}
	if !bytes.Contains(b, []byte(`"label": "WHITE"`)) {
		t.Errorf("document lacks TLP WHITE:\n%s", b)
	}
	if got := csaf.Filename(a.TrackingID); got != "focal-2026-0001.json" {
		t.Errorf("Filename = %q", got)
	}
}

func TestFilename(t *testing.T) {
	for in, want := range map[string]string{
		"FOCAL-2026-0001":       "focal-2026-0001.json",
		"Avendor-advisory-0004": "avendor-advisory-0004.json",
		"CERT EX/2026:12":       "cert_ex_2026_12.json",
		"a+b..c":                "a+b_c.json",
	} {
		if got := csaf.Filename(in); got != want {
			t.Errorf("Filename(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckExplains(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(a *csaf.Advisory)
		field string
		want  string
	}{
		{"no-title", func(a *csaf.Advisory) { a.Title = "" }, "title", "title"},
		{"no-summary", func(a *csaf.Advisory) { a.Summary = "" }, "summary", "summary"},
		{"no-products", func(a *csaf.Advisory) { a.Products = nil }, "products", "at least one"},
		{"unknown-product", func(a *csaf.Advisory) { a.Vulnerabilities[0].Affected = []string{"CSAFPID-0009"} }, "vulnerabilities.0.affected", "not in the product list"},
		{"bad-cvss", func(a *csaf.Advisory) { a.Vulnerabilities[0].CVSS = "CVSS:3.1/AV:N" }, "vulnerabilities.0.cvss", "lacks"},
		{"bad-cve", func(a *csaf.Advisory) { a.Vulnerabilities[0].CVE = "CVE-12" }, "vulnerabilities.0.cve", "not a CVE ID"},
		{"dup-product", func(a *csaf.Advisory) { a.Products[1].ID = a.Products[0].ID }, "products.1.id", "two products"},
		{"both", func(a *csaf.Advisory) { a.Vulnerabilities[0].Fixed = []string{"CSAFPID-0001"} }, "vulnerabilities.0.affected", "both"},
		{"no-version", func(a *csaf.Advisory) { a.Products[0].Version = "" }, "products.0.version", "no version"},
		{"bad-remediation", func(a *csaf.Advisory) { a.Vulnerabilities[0].Remediations[0].Category = "pray" }, "vulnerabilities.0.remediations.0.category", "kind"},
		{"bad-reference", func(a *csaf.Advisory) { a.References[0].URL = "ftp:x" }, "references.0.url", "web address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sample()
			tt.edit(a)
			a.Normalize()
			var found bool
			for _, p := range a.Check() {
				if p.Field == tt.field && strings.Contains(p.Message, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("Check() = %v, want %s: …%s…", a.Check(), tt.field, tt.want)
			}
			if _, err := csaf.Document(a); focal.ErrorCode(err) != focal.EINVALID {
				t.Errorf("Document() = %v, want invalid", err)
			}
		})
	}
}

// TestRoundTrip imports CSAF documents, exports them and compares: the
// export of an import of focal's own document is the same document; a
// foreign document (gocsaf's test advisory) imports into a model whose
// export is valid CSAF and re-imports to the same model.
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/roundtrip/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, err := csaf.Import(in)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if ps := a.Check(); len(ps) > 0 {
				// A foreign document may lack what focal's model requires
				// (a description per vulnerability): the author completes
				// it before publishing.
				t.Logf("imported %s needs completing: %v", f, ps)
				for _, p := range ps {
					if !strings.HasSuffix(p.Field, ".description") {
						t.Errorf("Check(Import(%s)) = %v", f, p)
					}
				}
				for i := range a.Vulnerabilities {
					if a.Vulnerabilities[i].Description == "" {
						a.Vulnerabilities[i].Description = "Completed by the author."
					}
				}
			}
			out, err := csaf.Document(a)
			if err != nil {
				t.Fatalf("Document(Import(%s)): %v", f, err)
			}
			if err := csaf.ValidateDocument(out); err != nil {
				t.Fatalf("export invalid: %v\n%s", err, out)
			}
			if strings.HasPrefix(filepath.Base(f), "focal-") {
				if !jsonEqual(t, in, out) {
					t.Errorf("export differs from import:\nin:  %s\nout: %s", in, out)
				}
			}
			b, err := csaf.Import(out)
			if err != nil {
				t.Fatal(err)
			}
			// Re-export groups products by vendor: compare them in ID order.
			for _, m := range []*csaf.Advisory{a, b} {
				slices.SortFunc(m.Products, func(p, q csaf.Product) int { return strings.Compare(p.ID, q.ID) })
			}
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			if !bytes.Equal(x, y) {
				t.Errorf("Import(Document(a)) != a:\n%s\n%s", x, y)
			}
		})
	}
}

func jsonEqual(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		tb.Fatal(err)
	}
	p, _ := json.Marshal(x)
	q, _ := json.Marshal(y)
	return bytes.Equal(p, q)
}

func TestImportBad(t *testing.T) {
	for name, in := range map[string]string{
		"not-json":    "{",
		"not-csaf":    `{"document":{"csaf_version":"1.2"}}`,
		"bad-date":    `{"document":{"csaf_version":"2.0","tracking":{"initial_release_date":"yesterday"}}}`,
		"bad-tlp":     `{"document":{"csaf_version":"2.0","distribution":{"tlp":{"label":"PURPLE"}}}}`,
		"trailing":    `{"document":{"csaf_version":"2.0"}} {}`,
		"wrong-types": `{"document":{"csaf_version":2}}`,
	} {
		if _, err := csaf.Import([]byte(in)); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("Import(%s) = %v, want invalid", name, err)
		}
	}
}

func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/roundtrip/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"document":{"csaf_version":"2.0"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := csaf.Import(b)
		if err != nil {
			return
		}
		if len(a.Check()) != 0 {
			return
		}
		out, err := csaf.Document(a)
		if err != nil {
			return
		}
		if _, err := csaf.Import(out); err != nil {
			t.Fatalf("Import(Document(Import(x))): %v", err)
		}
	})
}

func TestSigner(t *testing.T) {
	priv, pub, fpr, err := csaf.GenerateKey("CERT-EX", "cert@example.org", "s3cret", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csaf.NewSigner(string(priv), ""); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("NewSigner without passphrase = %v", err)
	}
	if _, err := csaf.NewSigner(string(priv), "wrong"); err == nil {
		t.Error("NewSigner with a wrong passphrase succeeded")
	}
	s, err := csaf.NewSigner(string(priv), "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if s.Fingerprint() != fpr {
		t.Errorf("Fingerprint = %s, want %s", s.Fingerprint(), fpr)
	}
	sig, err := s.Sign([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := csaf.Verify(pub, []byte("hello"), sig); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := csaf.Verify(pub, []byte("hellO"), sig); err == nil {
		t.Error("Verify of changed data succeeded")
	}
}

// BenchmarkPublish measures what publication does besides the database:
// generate the document, validate it (schema and mandatory tests) and
// sign it with an Ed25519 team key.
func BenchmarkPublish(b *testing.B) {
	priv, _, _, err := csaf.GenerateKey("CERT", "cert@example.org", "", 0)
	if err != nil {
		b.Fatal(err)
	}
	s, err := csaf.NewSigner(string(priv), "")
	if err != nil {
		b.Fatal(err)
	}
	a := sample()
	for b.Loop() {
		doc, err := csaf.Document(a)
		if err != nil {
			b.Fatal(err)
		}
		if err := csaf.ValidateDocument(doc); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Sign(doc); err != nil {
			b.Fatal(err)
		}
	}
}
