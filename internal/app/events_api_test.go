package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/server"
	"focal/internal/store"
)

// matrixFeed is the feed of the authorisation matrix's events.
const matrixFeed = "matrix-events"

// matrixEvents ingests an event of the target organisation (its network
// 192.0.2.0/24) for the authorisation matrix, once the lookup table knows
// the organisation.
func matrixEvents(t *testing.T, a *app.App, target *focal.Organisation) {
	t.Helper()
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	waitForLookup(t, a, netip.MustParseAddr("192.0.2.1"), target.ID)
	fd := &focal.FeedDef{Name: matrixFeed, Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}
	ingestAndWait(t, a, fd, "192.0.2.1\n")
}

// waitForLookup asks for the lookup table to be rebuilt and waits until
// it says addr belongs to org.
func waitForLookup(t *testing.T, a *app.App, addr netip.Addr, org int64) {
	t.Helper()
	a.ConstituencyChanged()
	for deadline := time.Now().Add(10 * time.Second); ; {
		found := false
		for _, id := range a.Lookup.Load().IP(addr) {
			found = found || id == org
		}
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lookup table does not know organisation %d owns %s", org, addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ingestAndWait feeds body into fd and waits until its run is complete.
func ingestAndWait(t *testing.T, a *app.App, fd *focal.FeedDef, body string) *focal.FeedRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(focal.NewContextWithPrincipal(context.Background(), focal.System()), 30*time.Second)
	defer cancel()
	run, err := a.Pipeline.Ingest(ctx, pipeline.Request{Feed: fd, Source: "test", Input: "test.txt", Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if run, err = a.Pipeline.WaitRun(ctx, run.ID, nil); err != nil {
		t.Fatal(err)
	}
	return run
}

// isWatchRoute reports whether watchFixture makes the fixture of path.
func isWatchRoute(path string) bool {
	for _, prefix := range []string{"/api/v1/events/{id}", "/events/{id}", "/api/v1/feeds", "/feeds", "/api/v1/runs/", "/runs/",
		"/api/v1/alert-rules", "/alert-rules", "/api/v1/ingest", "/api/v1/my/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// watchFixture makes the object a watch-and-warning route acts on (a feed,
// a run, an alert rule of its own; the matrix's event) and returns the
// path and body of the request.
func watchFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, unique string) (string, string) {
	t.Helper()
	path := rt.Path
	api := strings.HasPrefix(path, "/api/")
	newFeed := func() *focal.FeedDef {
		fd := &focal.FeedDef{Name: "fixture-" + unique, Format: "iplist", URL: "https://feeds.example/list.txt", Interval: time.Hour, Enabled: true,
			Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
		if err := st.CreateFeed(sys, fd); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	with := func(id int64) string { return strings.Replace(path, "{id}", fmt.Sprint(id), 1) }
	switch {
	case strings.Contains(path, "/events/{id}"):
		list, _, err := st.Events(sys, focal.EventFilter{Feed: matrixFeed, Limit: 1})
		if err != nil || len(list) == 0 {
			t.Fatalf("the matrix's event: %v %v", list, err)
		}
		return with(list[0].ID), ""
	case path == "/api/v1/my/events":
		now := time.Now().UTC()
		return path + "?since=" + now.AddDate(0, 0, -30).Format(time.DateOnly) + "&until=" + now.AddDate(0, 0, 1).Format(time.DateOnly), ""
	case path == "/api/v1/my/stream":
		return path + "?duration=50ms", ""
	case path == "/api/v1/ingest":
		return path + "?feed=" + matrixFeed, "192.0.2.2\n"
	case path == "/api/v1/feeds" || path == "/feeds":
		if api {
			return path, `{"name":"new-` + unique + `","format":"iplist","options":{"class":"intrusion-attempts","type":"brute-force"}}`
		}
		return path, "name=new-" + unique + "&format=iplist&options=class%3Dintrusion-attempts%0Atype%3Dbrute-force&tlp=AMBER"
	case strings.Contains(path, "/feeds/{id}"):
		fd := newFeed()
		switch {
		case strings.HasSuffix(path, "/upload"):
			return with(fd.ID), "--" + fixtureBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
				"192.0.2.3\n\r\n--" + fixtureBoundary + "--\r\n"
		case api:
			return with(fd.ID), `{"name":"fixture-` + unique + `-b","format":"iplist","options":{"class":"intrusion-attempts","type":"brute-force"}}`
		}
		return with(fd.ID), "name=fixture-" + unique + "-b&format=iplist&options=class%3Dintrusion-attempts%0Atype%3Dbrute-force&tlp=AMBER"
	case strings.Contains(path, "/runs/{id}"):
		fd := newFeed()
		run := &focal.FeedRun{FeedID: fd.ID, Key: "fixture:" + unique, Source: "test"}
		if _, err := st.StartRun(sys, run); err != nil {
			t.Fatal(err)
		}
		return with(run.ID), ""
	case path == "/api/v1/alert-rules" || path == "/alert-rules":
		if api {
			return path, `{"name":"Fixture ` + unique + `","threshold":3,"window_s":3600}`
		}
		return path, "name=Fixture+" + unique + "&threshold=3&window=1h&severity=medium&enabled=1"
	case strings.Contains(path, "/alert-rules/{id}"):
		r := &focal.AlertRule{Name: "Fixture " + unique, Threshold: 2, Window: time.Hour, Enabled: true}
		if err := st.CreateAlertRule(sys, r); err != nil {
			t.Fatal(err)
		}
		if api {
			return with(r.ID), `{"name":"Fixture ` + unique + ` b","threshold":4,"window_s":7200}`
		}
		return with(r.ID), "name=Fixture+" + unique + "+b&threshold=4&window=2h&severity=high"
	}
	return path, ""
}

// apiCall sends a request with a bearer token and extra header pairs and
// returns the status, header and body.
func apiCall(tb testing.TB, a *app.App, token, method, path string, body io.Reader, header ...string) (int, http.Header, string) {
	tb.Helper()
	req, err := http.NewRequest(method, a.URL()+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// userToken creates an account of role (of organisation org for a
// constituent) and returns a bearer token for it.
func userToken(tb testing.TB, a *app.App, name string, role focal.Role, org int64) string {
	tb.Helper()
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	u := &focal.User{Name: name, Role: role, OrgID: org}
	if err := a.Store.CreateUser(sys, u, ""); err != nil {
		tb.Fatal(err)
	}
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "write", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		tb.Fatal(err)
	}
	return tok
}

type eventJSON struct {
	ID     int64 `json:"id"`
	Source struct {
		IP string `json:"ip"`
	} `json:"source"`
	Class    string    `json:"class"`
	Type     string    `json:"type"`
	Feed     string    `json:"feed"`
	TLP      string    `json:"tlp"`
	Orgs     []int64   `json:"orgs"`
	Count    int       `json:"count"`
	LastSeen time.Time `json:"last_seen"`
	Raw      string    `json:"raw"`
}

type eventsJSON struct {
	Events []eventJSON `json:"events"`
	Next   string      `json:"next"`
}

type runJSON struct {
	ID       int64  `json:"id"`
	Feed     string `json:"feed"`
	State    string `json:"state"`
	Chunks   int64  `json:"chunks"`
	Events   int64  `json:"events"`
	Problems int64  `json:"problems"`
	Error    string `json:"error"`
	URL      string `json:"url"`
}

func decodeJSON[T any](tb testing.TB, body string) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		tb.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// A feed is created over the API, a file ingested into it and its events
// listed, filtered, exported and counted.
func TestEventsAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const js = "application/json"
	status, body := call(t, a, tok, "POST", "/api/v1/organisations", js, `{"name":"Alpha","sector":"isp","country":"FR","networks":["192.0.2.0/24"]}`)
	if status != http.StatusCreated {
		t.Fatalf("create organisation = %d %s", status, body)
	}
	alpha := decodeJSON[struct{ ID int64 }](t, body).ID
	waitForLookup(t, a, netip.MustParseAddr("192.0.2.10"), alpha)

	status, body = call(t, a, tok, "POST", "/api/v1/feeds", js,
		`{"name":"blocklist","format":"iplist","options":{"class":"intrusion-attempts","type":"brute-force"},"tlp":"green","confidence":80}`)
	if status != http.StatusCreated || !strings.Contains(body, `"tlp":"GREEN"`) || !strings.Contains(body, `"interval_s":0`) || !strings.Contains(body, `"dedup_window_s":86400`) {
		t.Fatalf("create feed = %d %s", status, body)
	}
	feedID := decodeJSON[struct{ ID int64 }](t, body).ID

	status, hdr, body := apiCall(t, a, tok, "POST", "/api/v1/ingest?feed=blocklist&wait=true&name=list.txt",
		strings.NewReader("# a list\n192.0.2.10\n192.0.2.20\n198.51.100.7\nnonsense\n"), "Content-Type", "text/plain")
	if status != http.StatusOK {
		t.Fatalf("ingest = %d %s", status, body)
	}
	run := decodeJSON[runJSON](t, body)
	if run.State != "done" || run.Events != 3 || run.Problems != 1 || run.Feed != "blocklist" || hdr.Get("Location") != run.URL || run.URL != fmt.Sprintf("/api/v1/runs/%d", run.ID) {
		t.Errorf("ingested run = %+v (Location %q)", run, hdr.Get("Location"))
	}
	if status, body := call(t, a, tok, "GET", run.URL, "", ""); status != http.StatusOK || !strings.Contains(body, `"state":"done"`) {
		t.Errorf("GET %s = %d %s", run.URL, status, body)
	}
	if status, body := call(t, a, tok, "GET", run.URL+"/problems", "", ""); status != http.StatusOK ||
		!strings.Contains(body, `"line":5`) || !strings.Contains(body, `"raw":"nonsense"`) || !strings.Contains(body, `"total":1`) {
		t.Errorf("GET problems = %d %s", status, body)
	}
	if status, body := call(t, a, tok, "GET", fmt.Sprintf("/api/v1/feeds/%d/runs", feedID), "", ""); status != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"id":%d`, run.ID)) {
		t.Errorf("GET runs = %d %s", status, body)
	}
	if status, body := call(t, a, tok, "GET", fmt.Sprintf("/api/v1/feeds/%d/listings?state=new", feedID), "", ""); status != http.StatusOK ||
		!strings.Contains(body, `"new":3`) || !strings.Contains(body, `"indicator":"192.0.2.10"`) {
		t.Errorf("GET listings = %d %s", status, body)
	}
	if status, body := call(t, a, tok, "GET", fmt.Sprintf("/api/v1/feeds/%d", feedID), "", ""); status != http.StatusOK || !strings.Contains(body, `"last_run":{`) {
		t.Errorf("GET feed = %d %s", status, body)
	}

	_, body = call(t, a, tok, "GET", "/api/v1/events", "", "")
	page := decodeJSON[eventsJSON](t, body)
	if len(page.Events) != 3 || page.Next != "" {
		t.Fatalf("events = %s", body)
	}
	for _, want := range []string{`"source_time":`, `"observed_time":`, `"class":"intrusion-attempts"`, `"type":"brute-force"`, `"source":{"ip":"192.0.2.10"}`,
		`"feed":"blocklist"`, `"tlp":"GREEN"`, `"confidence":80`, fmt.Sprintf(`"orgs":[%d]`, alpha), `"count":1`, `"first_seen":`, `"raw":"192.0.2.10"`} {
		if !strings.Contains(body, want) {
			t.Errorf("events lack %s: %s", want, body)
		}
	}
	if strings.Contains(body, `"destination"`) {
		t.Errorf("events show an empty destination: %s", body)
	}
	ids := map[string]int64{}
	for _, e := range page.Events {
		ids[e.Source.IP] = e.ID
	}

	filters := []struct {
		query string
		want  int
	}{
		{"ip=192.0.2.10", 1}, {"cidr=192.0.2.0/24", 2}, {fmt.Sprintf("org=%d", alpha), 2}, {"class=intrusion-attempts", 3},
		{"type=brute-force", 3}, {"class=malicious-code", 0}, {"feed=blocklist", 3}, {"feed=other", 0},
		{"since=2020-01-01&until=2099-01-01", 3}, {"since=2099-01-01", 0}, {"until=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 0},
		{"asn=AS64496", 0}, {"country=fr", 0},
	}
	for _, f := range filters {
		status, body := call(t, a, tok, "GET", "/api/v1/events?"+f.query, "", "")
		if status != http.StatusOK {
			t.Errorf("GET /api/v1/events?%s = %d %s", f.query, status, body)
			continue
		}
		if got := len(decodeJSON[eventsJSON](t, body).Events); got != f.want {
			t.Errorf("GET /api/v1/events?%s lists %d events, want %d", f.query, got, f.want)
		}
	}
	// Cursor paging visits every event once.
	seen := map[int64]bool{}
	cursor := ""
	for range 5 {
		_, body := call(t, a, tok, "GET", "/api/v1/events?limit=2&cursor="+url.QueryEscape(cursor), "", "")
		p := decodeJSON[eventsJSON](t, body)
		for _, e := range p.Events {
			if seen[e.ID] {
				t.Errorf("event %d listed twice", e.ID)
			}
			seen[e.ID] = true
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(seen) != 3 {
		t.Errorf("paging saw %d events, want 3", len(seen))
	}

	for _, bad := range []struct{ query, detail string }{
		{"ip=192.0.2", "ip"}, {"cidr=192.0.2.0/33", "cidr"}, {"asn=ASX", "asn"}, {"org=-1", "org"}, {"class=nope", "class"},
		{"class=fraud&type=brute-force", "type"}, {"type=nope", "type"}, {"country=FRA", "country"}, {"since=yesterday", "since"},
		{"since=2026-02-01&until=2026-01-01", "until"}, {"limit=0", "limit"}, {"limit=1001", "limit"}, {"cursor=garbage", "cursor"}, {"format=xml", "format"},
	} {
		status, body := call(t, a, tok, "GET", "/api/v1/events?"+bad.query, "", "")
		if status != http.StatusBadRequest || !strings.Contains(body, `"detail":"`+bad.detail+`:`) {
			t.Errorf("GET /api/v1/events?%s = %d %s, want 400 naming %s", bad.query, status, body, bad.detail)
		}
	}

	// Exports stream every matching event.
	for _, tt := range []struct{ path, accept string }{{"/api/v1/events?format=csv", ""}, {"/api/v1/events", "text/csv"}} {
		status, hdr, body := apiCall(t, a, tok, "GET", tt.path, nil, "Accept", tt.accept)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(hdr.Get("Content-Disposition"), ".csv") {
			t.Fatalf("GET %s (Accept %q) = %d %v", tt.path, tt.accept, status, hdr)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || strings.Join(rows[0][:3], ",") != "id,first_seen,last_seen" || rows[0][len(rows[0])-1] != "raw" {
			t.Errorf("CSV export = %q", rows)
		}
	}
	status, hdr, body = apiCall(t, a, tok, "GET", "/api/v1/events?format=ndjson&cidr=192.0.2.0/24", nil)
	if lines := strings.Split(strings.TrimSpace(body), "\n"); status != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" || len(lines) != 2 {
		t.Errorf("NDJSON export = %d %q %q", status, hdr.Get("Content-Type"), body)
	}

	if status, body := call(t, a, tok, "GET", fmt.Sprintf("/api/v1/events/%d", ids["192.0.2.10"]), "", ""); status != http.StatusOK || !strings.Contains(body, `"ip":"192.0.2.10"`) {
		t.Errorf("GET event = %d %s", status, body)
	}
	if status, _ := call(t, a, tok, "GET", "/api/v1/events/999999", "", ""); status != http.StatusNotFound {
		t.Errorf("GET a missing event = %d, want 404", status)
	}

	status, body = call(t, a, tok, "GET", "/api/v1/events/stats?bucket=15m&top=5", "", "")
	if status != http.StatusOK {
		t.Fatalf("stats = %d %s", status, body)
	}
	stats := decodeJSON[struct {
		Events  int64 `json:"events"`
		BucketS int64 `json:"bucket_s"`
		Buckets []struct {
			Events int64 `json:"events"`
		} `json:"buckets"`
		TopOrgs []struct {
			ID    int64  `json:"id"`
			Name  string `json:"name"`
			Count int64  `json:"count"`
		} `json:"top_orgs"`
		TopFeeds []struct {
			Key   string `json:"key"`
			Count int64  `json:"count"`
		} `json:"top_feeds"`
	}](t, body)
	if stats.Events != 3 || stats.BucketS != 900 || len(stats.Buckets) != 1 || stats.Buckets[0].Events != 3 ||
		len(stats.TopOrgs) != 1 || stats.TopOrgs[0].Name != "Alpha" || stats.TopOrgs[0].Count != 2 || len(stats.TopFeeds) != 1 || stats.TopFeeds[0].Key != "blocklist" {
		t.Errorf("stats = %s", body)
	}
	for _, q := range []string{"bucket=1s", "bucket=100d", "bucket=soon", "bucket=1m&since=2000-01-01", "top=101"} {
		if status, _ := call(t, a, tok, "GET", "/api/v1/events/stats?"+q, "", ""); status != http.StatusBadRequest {
			t.Errorf("stats?%s = %d, want 400", q, status)
		}
	}

	// A constituent of Alpha sees Alpha's events only, and only Alpha
	// among their organisations.
	ctok := userToken(t, a, "alpha-user", focal.RoleConstituent, alpha)
	_, body = call(t, a, ctok, "GET", "/api/v1/events", "", "")
	if got := decodeJSON[eventsJSON](t, body).Events; len(got) != 2 {
		t.Errorf("constituent's events = %s, want Alpha's two", body)
	}
	if status, _ := call(t, a, ctok, "GET", fmt.Sprintf("/api/v1/events/%d", ids["198.51.100.7"]), "", ""); status != http.StatusNotFound {
		t.Errorf("another's event for a constituent = %d, want 404", status)
	}
	if status, _ := call(t, a, ctok, "GET", "/api/v1/feeds", "", ""); status != http.StatusForbidden {
		t.Errorf("feeds for a constituent = %d, want 403", status)
	}
}

// Ingest finds or creates the feed, refuses what it cannot take, and
// answers a changed format with 422.
func TestIngestAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const feodo = "# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n" +
		"\"2026-10-02 08:14:03\",\"198.51.100.23\",\"443\",\"online\",\"2026-11-20\",\"QakBot\"\n"
	status, hdr, body := apiCall(t, a, tok, "POST", "/api/v1/ingest?format=feodo-csv&key=first", strings.NewReader(feodo))
	if status != http.StatusAccepted {
		t.Fatalf("ingest into the format's feed = %d %s", status, body)
	}
	run := decodeJSON[runJSON](t, body)
	if run.Feed != "feodo-csv" || hdr.Get("Location") != run.URL {
		t.Errorf("run = %+v", run)
	}
	_, body = call(t, a, tok, "GET", "/api/v1/feeds", "", "")
	if !strings.Contains(body, `"name":"feodo-csv","format":"feodo-csv"`) || !strings.Contains(body, `"tlp":"AMBER","confidence":50`) {
		t.Errorf("the format's feed was not created with TLP:AMBER and confidence 50: %s", body)
	}
	// The same key is the same run.
	_, _, again := apiCall(t, a, tok, "POST", "/api/v1/ingest?format=feodo-csv&key=first", strings.NewReader(feodo))
	if decodeJSON[runJSON](t, again).ID != run.ID {
		t.Errorf("ingest with the same key = %s, want run %d", again, run.ID)
	}

	tests := []struct {
		name, query, body string
		status            int
		detail            string
	}{
		{"no-format", "", "x\n", 400, "format:"},
		{"unknown-format", "format=nope", "x\n", 400, "format:"},
		{"needs-options", "format=iplist", "192.0.2.1\n", 400, "feed:"},
		{"unknown-feed", "feed=nope", "x\n", 400, "feed:"},
		{"other-format", "feed=feodo-csv&format=urlhaus", "x\n", 400, "format:"},
		{"bad-wait", "format=feodo-csv&wait=maybe", "x\n", 400, "wait:"},
		{"changed-format", "format=feodo-csv", "# \"first\",\"second\"\n\"1\",\"2\"\n", 422, "does not look like feodo-csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := apiCall(t, a, tok, "POST", "/api/v1/ingest?"+tt.query, strings.NewReader(tt.body))
			if status != tt.status || !strings.Contains(body, tt.detail) || hdr.Get("Content-Type") != "application/problem+json" {
				t.Errorf("ingest?%s = %d %s %s, want %d mentioning %q", tt.query, status, hdr.Get("Content-Type"), body, tt.status, tt.detail)
			}
		})
	}
	// A handler reads feeds but may not ingest.
	htok := userToken(t, a, "handler", focal.RoleHandler, 0)
	if status, _, _ := apiCall(t, a, htok, "POST", "/api/v1/ingest?format=feodo-csv", strings.NewReader(feodo)); status != http.StatusForbidden {
		t.Errorf("ingest as handler = %d, want 403", status)
	}
}

// Feed definitions are checked against the format registry; polling one
// now needs a URL.
func TestFeedsAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const js = "application/json"
	status, body := call(t, a, tok, "GET", "/api/v1/formats", "", "")
	if status != http.StatusOK || !strings.Contains(body, `"name":"iplist"`) || !strings.Contains(body, `{"name":"class","required":true,`) {
		t.Errorf("formats = %d %s", status, body)
	}
	for _, tt := range []struct{ name, body, detail string }{
		{"unknown-format", `{"name":"x","format":"nope"}`, "format:"},
		{"unknown-option", `{"name":"x","format":"feodo-csv","options":{"colour":"red"}}`, "options:"},
		{"missing-option", `{"name":"x","format":"iplist"}`, "options:"},
		{"bad-name", `{"name":"X Y","format":"feodo-csv"}`, "name:"},
		{"short-interval", `{"name":"x","format":"feodo-csv","url":"https://feeds.example/x","interval_s":10}`, "interval:"},
		{"polled-without-url", `{"name":"x","format":"feodo-csv","interval_s":3600}`, "url:"},
		{"bad-tlp", `{"name":"x","format":"feodo-csv","tlp":"purple"}`, "tlp:"},
		{"bad-class", `{"name":"x","format":"feodo-csv","class":"nope","type":"x"}`, "class:"},
		{"bad-dedup", `{"name":"x","format":"feodo-csv","dedup_fields":["colour"]}`, "dedup_fields:"},
		{"negative-window", `{"name":"x","format":"feodo-csv","dedup_window_s":-1}`, "dedup_window_s:"},
		{"unknown-field", `{"name":"x","format":"feodo-csv","colour":"red"}`, "colour:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, a, tok, "POST", "/api/v1/feeds", js, tt.body)
			if status != http.StatusBadRequest || !strings.Contains(body, `"detail":"`+tt.detail) {
				t.Errorf("POST /api/v1/feeds %s = %d %s, want 400 naming %s", tt.body, status, body, tt.detail)
			}
		})
	}
	status, body = call(t, a, tok, "POST", "/api/v1/feeds", js, `{"name":"local","format":"feodo-csv"}`)
	if status != http.StatusCreated || !strings.Contains(body, `"enabled":true`) || !strings.Contains(body, `"confidence":50`) {
		t.Fatalf("create = %d %s", status, body)
	}
	local := decodeJSON[struct{ ID int64 }](t, body).ID
	if status, body := call(t, a, tok, "POST", "/api/v1/feeds", js, `{"name":"local","format":"feodo-csv"}`); status != http.StatusBadRequest || !strings.Contains(body, "already exists") {
		t.Errorf("a second feed of the same name = %d %s", status, body)
	}
	path := fmt.Sprintf("/api/v1/feeds/%d", local)
	if status, body := call(t, a, tok, "POST", path+"/run", "", ""); status != http.StatusConflict || !strings.Contains(body, "no URL") {
		t.Errorf("run now without URL = %d %s, want 409", status, body)
	}
	status, body = call(t, a, tok, "PUT", path, js, `{"name":"local","format":"feodo-csv","url":"https://feodotracker.example/ipblocklist.csv","interval_s":3600,"dedup_window_s":7200,"enabled":true}`)
	if status != http.StatusOK || !strings.Contains(body, `"interval_s":3600`) || !strings.Contains(body, `"dedup_window_s":7200`) {
		t.Fatalf("PUT = %d %s", status, body)
	}
	// What GET returns may be PUT back.
	_, got := call(t, a, tok, "GET", path, "", "")
	if status, body := call(t, a, tok, "PUT", path, js, got); status != http.StatusOK {
		t.Errorf("PUT of what GET returned = %d %s", status, body)
	}
	status, body = call(t, a, tok, "POST", path+"/run", "", "")
	if status != http.StatusAccepted {
		t.Fatalf("run now = %d %s", status, body)
	}
	next := decodeJSON[struct {
		NextRun time.Time `json:"next_run"`
	}](t, body).NextRun
	if time.Since(next) > time.Minute || time.Until(next) > time.Second {
		t.Errorf("run now scheduled the poll at %v, want now", next)
	}
	if status, body := call(t, a, tok, "GET", path+"/listings?state=gone", "", ""); status != http.StatusBadRequest || !strings.Contains(body, "state:") {
		t.Errorf("listings in an unknown state = %d %s", status, body)
	}
	if status, _ := call(t, a, tok, "DELETE", path, "", ""); status != http.StatusNoContent {
		t.Errorf("DELETE = %d", status)
	}
	if status, _ := call(t, a, tok, "GET", path, "", ""); status != http.StatusNotFound {
		t.Errorf("GET after DELETE = %d, want 404", status)
	}
}

// Alert rules name existing organisations, sectors and feeds.
func TestAlertRulesAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const js = "application/json"
	status, body := call(t, a, tok, "POST", "/api/v1/organisations", js, `{"name":"Alpha","sector":"isp","country":"FR"}`)
	if status != http.StatusCreated {
		t.Fatal(body)
	}
	alpha := decodeJSON[struct{ ID int64 }](t, body).ID
	for _, tt := range []struct{ name, body, detail string }{
		{"no-name", `{"threshold":1}`, "name:"},
		{"unknown-org", `{"name":"r","org_id":999999}`, "org_id:"},
		{"unknown-sector", `{"name":"r","sector":"piracy"}`, "sector:"},
		{"unknown-feed", `{"name":"r","feed":"nope"}`, "feed:"},
		{"unknown-class", `{"name":"r","class":"nope"}`, "class:"},
		{"bad-severity", `{"name":"r","severity":"apocalyptic"}`, "severity:"},
		{"long-window", `{"name":"r","window_s":99999999}`, "window_s:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, a, tok, "POST", "/api/v1/alert-rules", js, tt.body)
			if status != http.StatusBadRequest || !strings.Contains(body, `"detail":"`+tt.detail) {
				t.Errorf("POST %s = %d %s, want 400 naming %s", tt.body, status, body, tt.detail)
			}
		})
	}
	status, body = call(t, a, tok, "POST", "/api/v1/alert-rules", js, fmt.Sprintf(`{"name":"Botnets at Alpha","org_id":%d,"class":"malicious-code","threshold":5,"window_s":7200,"severity":"high"}`, alpha))
	if status != http.StatusCreated || !strings.Contains(body, `"enabled":true`) || !strings.Contains(body, `"window_s":7200`) {
		t.Fatalf("create = %d %s", status, body)
	}
	path := fmt.Sprintf("/api/v1/alert-rules/%d", decodeJSON[struct{ ID int64 }](t, body).ID)
	if status, body := call(t, a, tok, "GET", "/api/v1/alert-rules", "", ""); status != http.StatusOK || !strings.Contains(body, "Botnets at Alpha") {
		t.Errorf("list = %d %s", status, body)
	}
	if status, body := call(t, a, tok, "PUT", path, js, `{"name":"Botnets anywhere","threshold":9,"enabled":false}`); status != http.StatusOK ||
		!strings.Contains(body, `"threshold":9`) || !strings.Contains(body, `"enabled":false`) || strings.Contains(body, "org_id") {
		t.Errorf("PUT = %d %s", status, body)
	}
	if status, _ := call(t, a, tok, "DELETE", path, "", ""); status != http.StatusNoContent {
		t.Errorf("DELETE = %d", status)
	}
	if status, _ := call(t, a, tok, "GET", path, "", ""); status != http.StatusNotFound {
		t.Errorf("GET after DELETE = %d", status)
	}
}
