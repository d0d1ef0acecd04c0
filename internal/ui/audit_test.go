package ui_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAuditPage checks the filters, the JSON details and "older" paging.
func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	for i := range 51 {
		if err := e.st.Audit(e.sys, "test", "thing", fmt.Sprint(i), map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.get(t, "coordinator", "/audit?action=test")
	if r.status != http.StatusOK {
		t.Fatalf("GET /audit = %d", r.status)
	}
	if n := strings.Count(r.body, "<td>thing "); n != 50 {
		t.Errorf("GET /audit?action=test shows %d records, want 50", n)
	}
	if !strings.Contains(r.body, "<td>thing 50</td>") || strings.Contains(r.body, "<td>thing 0</td>") {
		t.Errorf("GET /audit?action=test is not newest first")
	}
	if !strings.Contains(r.body, "<h3>After</h3><pre>{\n  &#34;n&#34;: 50\n}</pre>") {
		t.Errorf("GET /audit does not show the record's JSON in details")
	}
	older := strings.Index(r.body, `rel="next"`)
	if older < 0 {
		t.Fatalf("GET /audit?action=test has no Older link")
	}
	href := r.body[strings.LastIndex(r.body[:older], `href="`)+6 : older-2]
	href = strings.ReplaceAll(href, "&amp;", "&")
	r = e.get(t, "coordinator", href)
	if n := strings.Count(r.body, "<td>thing "); n != 1 || !strings.Contains(r.body, "<td>thing 0</td>") {
		t.Errorf("GET %s shows %d records, want only the oldest", href, n)
	}
	if strings.Contains(r.body, `rel="next"`) || !strings.Contains(r.body, `href="/audit?action=test">Newest</a>`) {
		t.Errorf("GET %s: want no Older link and a Newest link", href)
	}
	if r := e.get(t, "coordinator", "/audit?actor=nobody"); !strings.Contains(r.body, "No records match.") {
		t.Errorf("GET /audit?actor=nobody does not say nothing matches")
	}
}
