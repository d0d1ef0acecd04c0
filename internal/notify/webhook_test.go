package notify

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/focal"
)

const testSecret = "0123456789abcdef-org-42-secret"

// hookServer answers webhook posts with the scripted statuses (then 200)
// and checks every signature.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	badSig   int
}

func startHook(t *testing.T, statuses ...int) *hookServer {
	t.Helper()
	h := &hookServer{statuses: statuses}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		want := Sign([]byte(testSecret), body)
		if !hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte(want)) || r.Header.Get("Content-Type") != "application/json" {
			h.badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.bodies = append(h.bodies, body)
		if len(h.statuses) > 0 {
			s := h.statuses[0]
			h.statuses = h.statuses[1:]
			if s == http.StatusFound {
				http.Redirect(w, r, "http://elsewhere.example/", s)
				return
			}
			w.WriteHeader(s)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	h.Config.ErrorLog = log.New(io.Discard, "", 0) // clients refusing the test certificate are expected
	h.StartTLS()
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) bad() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.badSig
}

func (h *hookServer) posts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func testWebhook(h *hookServer) (*Webhook, *[]time.Duration) {
	var waits []time.Duration
	w := &Webhook{Client: h.Client(), MaxAttempts: 3, Backoff: time.Second}
	w.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return w, &waits
}

func TestWebhookPost(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		wantErr   string // "" = success
		permanent bool
		posts     int
	}{
		{"ok", nil, "", false, 1},
		{"retry-5xx", []int{503, 502}, "", false, 3},
		{"retry-429", []int{429}, "", false, 2},
		{"gives-up", []int{500, 500, 500}, "gave up after 3 attempts: answered 500", false, 3},
		{"client-error", []int{400}, "permanent failure: answered 400", true, 1},
		{"redirect", []int{302}, "redirects are not followed", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHook(t, tt.statuses...)
			w, waits := testWebhook(h)
			url := h.URL + "/hook?token=query-token-secret"
			err := w.Post(context.Background(), url, []byte(testSecret), []byte(`{"reference":"x"}`))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Post() = %v, want nil", err)
				}
			} else {
				var de *DeliveryError
				if !errors.As(err, &de) || de.Permanent != tt.permanent {
					t.Fatalf("Post() = %v, want a DeliveryError, permanent %v", err, tt.permanent)
				}
				mustContain(t, "Post()", err.Error(), tt.wantErr)
				if strings.Contains(err.Error(), "query-token-secret") {
					t.Errorf("Post() error %q shows the URL's query", err)
				}
			}
			if got := h.posts(); got != tt.posts {
				t.Errorf("server got %d posts, want %d", got, tt.posts)
			}
			if len(*waits) != max(0, tt.posts-1) && !tt.permanent {
				t.Errorf("waits = %v, want %d", *waits, tt.posts-1)
			}
			if n := h.bad(); n != 0 {
				t.Errorf("%d posts had a bad signature", n)
			}
		})
	}
}

func TestWebhookRefusesHTTP(t *testing.T) {
	err := PostWebhook(context.Background(), http.DefaultClient, "http://hooks.example/x", []byte(testSecret), []byte("{}"))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent {
		t.Errorf("PostWebhook(http://…) = %v, want a permanent failure", err)
	}
}

func TestWebhookUntrustedCertificate(t *testing.T) {
	h := startHook(t)
	w := &Webhook{MaxAttempts: 3} // the default client does not trust the test server
	err := w.Post(context.Background(), h.URL, []byte(testSecret), []byte("{}"))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent || de.Attempts != 1 {
		t.Errorf("Post() = %v, want a permanent failure without retry", err)
	}
}

func TestBuildPayload(t *testing.T) {
	p := Policy{Channel: ChannelWebhook, WebhookURL: "https://hooks.telecom.example/focal", WebhookSecret: testSecret}
	events := []*focal.Event{
		testEvent(1, "malicious-code", "infected-system", focal.TLPGreen),
		testEvent(2, "vulnerable", "vulnerable-system", focal.TLPAmber),
		testEvent(3, "malicious-code", "infected-system", focal.TLPRed),
	}
	for _, format := range []string{FormatText, FormatXARF} {
		t.Run(format, func(t *testing.T) {
			p.Format = format
			wm, err := BuildPayload(testOrg(), p, events, testTeam(), testNow)
			if err != nil {
				t.Fatalf("BuildPayload() = %v", err)
			}
			if len(wm.EventIDs) != 2 || wm.TLP != focal.TLPAmber || wm.URL != p.WebhookURL {
				t.Errorf("WebhookMessage = %v %s %s, want 2 events (RED left out), AMBER", wm.EventIDs, wm.TLP, wm.URL)
			}
			var pl Payload
			if err := json.Unmarshal(wm.Body, &pl); err != nil {
				t.Fatal(err)
			}
			if pl.Reference != wm.Reference || pl.TLP != "TLP:AMBER" || pl.Organisation.ID != testOrgID || pl.Format != format {
				t.Errorf("payload = %+v", pl)
			}
			switch format {
			case FormatXARF:
				if len(pl.Reports) != 2 || pl.Reports[0].XARFVersion != XARFVersion || len(pl.Events) != 0 {
					t.Errorf("reports = %d, events = %d; want 2 XARF reports", len(pl.Reports), len(pl.Events))
				}
			default:
				if len(pl.Events) != 2 || pl.Events[0].Source.IP.String() == "" || pl.Events[1].TLP != "TLP:AMBER" {
					t.Errorf("events = %+v", pl.Events)
				}
			}
		})
	}

	// End to end: the built payload posted, its signature checked by the server.
	h := startHook(t)
	wm, err := BuildPayload(testOrg(), p, events, testTeam(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := PostWebhook(context.Background(), h.Client(), h.URL, []byte(p.WebhookSecret), wm.Body); err != nil {
		t.Fatalf("PostWebhook() = %v", err)
	}
	if h.posts() != 1 || h.bad() != 0 {
		t.Errorf("posts = %d, bad signatures = %d", h.posts(), h.bad())
	}
}
