package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/focal"
)

// sseEvent is one Server-Sent Event of the live stream.
type sseEvent struct {
	ID string
	IP string
}

// follow opens the live stream with token (resuming after last, if set)
// and sends what it reads to the channel until the stream ends.
func follow(t *testing.T, a *app.App, token, last string) (<-chan sseEvent, func()) {
	t.Helper()
	return followFor(t, a, token, last, 30*time.Second)
}

// followFor is follow with the stream ending after d.
func followFor(t *testing.T, a *app.App, token, last string, d time.Duration) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", a.URL()+"/api/v1/my/stream?duration="+d.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				var body struct {
					Source struct{ IP string } `json:"source"`
				}
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &body) == nil {
					ev.IP = body.Source.IP
				}
			case line == "" && ev.ID != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out, cancel
}

// collect reads n events from ch, failing after a deadline.
func collect(t *testing.T, ch <-chan sseEvent, n int) []sseEvent {
	t.Helper()
	var got []sseEvent
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended after %d events, want %d: %v", len(got), n, got)
			}
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("got %d events, want %d: %v", len(got), n, got)
		}
	}
	return got
}

// TestMyEventsAndStream checks that an organisation's token sees exactly
// its own events in the listing and the live stream, whatever it asks
// for, and that a stream resumes after Last-Event-ID.
func TestMyEventsAndStream(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	orgA := &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}}
	orgB := &focal.Organisation{Name: "Bravo", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	for _, o := range []*focal.Organisation{orgA, orgB} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	waitForLookup(t, a, netip.MustParseAddr("198.51.100.1"), orgB.ID)
	waitForLookup(t, a, netip.MustParseAddr("192.0.2.1"), orgA.ID)
	tokA := userToken(t, a, "alpha", focal.RoleConstituent, orgA.ID)
	tokB := userToken(t, a, "bravo", focal.RoleConstituent, orgB.ID)
	staff := userToken(t, a, "an-analyst", focal.RoleAnalyst, 0)
	fd := &focal.FeedDef{Name: "bf", Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}

	streamA, stopA := follow(t, a, tokA, "")
	defer stopA()
	streamB, stopB := follow(t, a, tokB, "")
	defer stopB()
	ingestAndWait(t, a, fd, "192.0.2.10\n198.51.100.10\n192.0.2.11\n203.0.113.9\n")
	gotA := collect(t, streamA, 2)
	gotB := collect(t, streamB, 1)
	// Within one commit the order is the store's; compare as sets.
	if ips := []string{gotA[0].IP, gotA[1].IP}; !slices.Contains(ips, "192.0.2.10") || !slices.Contains(ips, "192.0.2.11") || gotB[0].IP != "198.51.100.10" {
		t.Errorf("streams: A %v, B %v; want each its own events", gotA, gotB)
	}

	// Resume after the first event: the second comes again, then new ones.
	resumed, stopR := follow(t, a, tokA, gotA[0].ID)
	defer stopR()
	if again := collect(t, resumed, 1); again[0] != gotA[1] {
		t.Errorf("resumed after %s: %v; want %v", gotA[0].ID, again, gotA[1])
	}
	ingestAndWait(t, a, fd, "198.51.100.11\n192.0.2.12\n")
	if next := collect(t, resumed, 1); next[0].IP != "192.0.2.12" {
		t.Errorf("resumed stream then got %v, want 192.0.2.12", next)
	}
	if next := collect(t, streamB, 1); next[0].IP != "198.51.100.11" {
		t.Errorf("B's stream then got %v, want 198.51.100.11", next)
	}

	// The listing: a window is required; filters and cursors cannot reach
	// another organisation's events.
	now := time.Now().UTC()
	window := "since=" + now.AddDate(0, 0, -1).Format(time.DateOnly) + "&until=" + now.AddDate(0, 0, 1).Format(time.DateOnly)
	if status, _, body := apiCall(t, a, tokA, "GET", "/api/v1/my/events", nil); status != http.StatusBadRequest || !strings.Contains(body, "since") {
		t.Errorf("my/events without a window = %d %s; want 400 naming since", status, body)
	}
	for _, q := range []string{"", "&org=" + itoa(orgB.ID), "&cidr=198.51.100.0/24", "&ip=198.51.100.10", "&limit=1"} {
		cursor := ""
		var ips []string
		for page := 0; page < 10; page++ {
			path := "/api/v1/my/events?" + window + q
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			status, _, body := apiCall(t, a, tokA, "GET", path, nil)
			if status != http.StatusOK {
				t.Fatalf("%s = %d %s", path, status, body)
			}
			res := decodeJSON[struct {
				Events []struct {
					Source struct{ IP string } `json:"source"`
					Orgs   []int64             `json:"orgs"`
				} `json:"events"`
				Next string `json:"next"`
			}](t, body)
			for _, e := range res.Events {
				ips = append(ips, e.Source.IP)
				if len(e.Orgs) != 1 || e.Orgs[0] != orgA.ID {
					t.Errorf("%s: event %s shows organisations %v", path, e.Source.IP, e.Orgs)
				}
			}
			if cursor = res.Next; cursor == "" {
				break
			}
		}
		for _, ip := range ips {
			if !strings.HasPrefix(ip, "192.0.2.") {
				t.Errorf("A's token, query %q, got another organisation's event %s", q, ip)
			}
		}
		if q == "" && len(ips) != 3 {
			t.Errorf("A's events = %v, want its 3", ips)
		}
	}
	status, _, body := apiCall(t, a, tokA, "GET", "/api/v1/my/events?"+window+"&format=csv", nil)
	if status != http.StatusOK || strings.Contains(body, "198.51.100.") || strings.Count(strings.TrimSpace(body), "\n") != 3 {
		t.Errorf("A's CSV export = %d\n%s", status, body)
	}
	if status, _, _ := apiCall(t, a, staff, "GET", "/api/v1/my/events?"+window, nil); status != http.StatusForbidden {
		t.Errorf("my/events with a staff token = %d, want 403", status)
	}
	if status, _, _ := apiCall(t, a, tokA, "GET", "/api/v1/my/stream", nil, "Last-Event-ID", "bogus"); status != http.StatusBadRequest {
		t.Errorf("stream with a bad Last-Event-ID = %d, want 400", status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
