package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"focal/internal/focal"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook body, as
// "sha256=<hex>", keyed with the organisation's webhook secret. Receivers
// recompute it over the raw body and compare in constant time.
const SignatureHeader = "X-Focal-Signature"

// Payload is the JSON body of a webhook delivery: XARF v4 reports for
// FormatXARF, flat events otherwise.
type Payload struct {
	Reference    string         `json:"reference"`
	Organisation PayloadOrg     `json:"organisation"`
	Sender       XARFContact    `json:"sender"`
	Generated    time.Time      `json:"generated"`
	TLP          string         `json:"tlp"` // the highest label, e.g. "TLP:AMBER"
	Format       string         `json:"format"`
	Reports      []XARFReport   `json:"reports,omitempty"`
	Events       []PayloadEvent `json:"events,omitempty"`
}

// PayloadOrg names the organisation a payload is for.
type PayloadOrg struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// PayloadEvent is one event of a FormatText payload; the fields are
// those of the CSV attachment (docs/events.md).
type PayloadEvent struct {
	Time        time.Time      `json:"time,omitzero"`
	Class       string         `json:"class"`
	Type        string         `json:"type"`
	Source      focal.Endpoint `json:"source,omitzero"`
	Destination focal.Endpoint `json:"destination,omitzero"`
	Protocol    string         `json:"protocol,omitempty"`
	Malware     string         `json:"malware,omitempty"`
	Identifier  string         `json:"identifier,omitempty"`
	Feed        string         `json:"feed"`
	Provider    string         `json:"provider,omitempty"`
	Confidence  int            `json:"confidence"`
	Count       int            `json:"count"`
	FirstSeen   time.Time      `json:"first_seen,omitzero"`
	LastSeen    time.Time      `json:"last_seen,omitzero"`
	TLP         string         `json:"tlp"`
}

// WebhookMessage is one built webhook delivery.
type WebhookMessage struct {
	Reference string
	OrgID     int64
	URL       string
	TLP       focal.TLP
	EventIDs  []int64
	Body      []byte // the JSON Payload
}

// BuildPayload builds the webhook delivery of one organisation's events
// under p, which needs a WebhookURL. It filters the events as Build does
// and returns nil, nil when none is wanted. Webhook bodies are not split.
func BuildPayload(org Org, p Policy, events []*focal.Event, team Team, now time.Time) (*WebhookMessage, error) {
	p.Classes, p.Feeds, p.Immediate, p.Recipients = slices.Clone(p.Classes), slices.Clone(p.Feeds), slices.Clone(p.Immediate), slices.Clone(p.Recipients)
	if err := team.validate(); err != nil {
		return nil, err
	}
	if _, err := p.validate(now); err != nil {
		return nil, err
	}
	if p.WebhookURL == "" {
		return nil, focal.FieldErrorf("webhook_url", "the policy has no webhook URL")
	}
	evs, err := selectEvents(org, &p, events)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	pl := Payload{
		Reference:    newReference(now),
		Organisation: PayloadOrg{ID: org.ID, Name: org.Name},
		Sender:       XARFContact{Org: team.Name, Contact: team.Email, Domain: team.domain()},
		Generated:    now.UTC(),
		Format:       p.Format,
	}
	label := focal.TLPClear
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
		t := effectiveTLP(e.TLP)
		if t.Rank() > label.Rank() {
			label = t
		}
		if p.Format == FormatXARF {
			pl.Reports = append(pl.Reports, ToXARF(e, team, now))
			continue
		}
		pl.Events = append(pl.Events, PayloadEvent{
			Time: e.SourceTime.UTC(), Class: e.Class, Type: e.Type,
			Source: e.Source, Destination: e.Destination, Protocol: e.Protocol,
			Malware: e.Malware, Identifier: e.Identifier, Feed: e.Feed, Provider: e.Provider,
			Confidence: e.Confidence, Count: e.Count,
			FirstSeen: e.FirstSeen.UTC(), LastSeen: e.LastSeen.UTC(), TLP: t.String(),
		})
	}
	pl.TLP = label.String()
	body, err := json.Marshal(pl)
	if err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	return &WebhookMessage{Reference: pl.Reference, OrgID: org.ID, URL: p.WebhookURL, TLP: label, EventIDs: ids, Body: body}, nil
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Webhook posts payloads to organisations' endpoints. The zero value
// works: http.Client with a 30-second timeout, DefaultMaxAttempts,
// DefaultBackoff. It is safe for concurrent use.
type Webhook struct {
	Client      *http.Client // its redirect policy is replaced: redirects are refused
	MaxAttempts int
	Backoff     time.Duration
	Logger      *slog.Logger

	sleep func(context.Context, time.Duration) error // test hook
}

// PostWebhook posts body to an https URL with a Webhook using client.
func PostWebhook(ctx context.Context, client *http.Client, rawURL string, secret, body []byte) error {
	w := &Webhook{Client: client}
	return w.Post(ctx, rawURL, secret, body)
}

// Post sends body (JSON) to rawURL, which must be https, with its
// HMAC-SHA256 in SignatureHeader. A 2xx answer is success. It retries
// network errors and 408, 425, 429 and 5xx answers with exponential
// backoff and jitter; any other answer, or a redirect, is a permanent
// failure. It returns nil, a *DeliveryError (whose messages show the URL
// without its query, which may hold a token), or ctx's error.
func (w *Webhook) Post(ctx context.Context, rawURL string, secret, body []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return &DeliveryError{Op: "post", Reference: "webhook", Permanent: true, Err: errors.New("the webhook URL must be an https URL")}
	}
	ref := u.Scheme + "://" + u.Host + u.EscapedPath()
	client := http.Client{Timeout: 30 * time.Second}
	if w.Client != nil {
		client = *w.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	base := w.Backoff
	if base <= 0 {
		base = DefaultBackoff
	}
	sig := Sign(secret, body)
	var last error
	for attempt := 1; ; attempt++ {
		perm, err := w.post(ctx, &client, u.String(), sig, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		w.log().Warn("webhook not delivered", "url", ref, "attempt", attempt, "permanent", perm, "err", err)
		if perm {
			return &DeliveryError{Op: "post", Reference: ref, Permanent: true, Attempts: attempt, Err: err}
		}
		if attempt >= maxAttempts {
			return &DeliveryError{Op: "post", Reference: ref, Attempts: attempt, Err: last}
		}
		wait := sleepContext
		if w.sleep != nil {
			wait = w.sleep
		}
		if err := wait(ctx, backoff(base, attempt)); err != nil {
			return err
		}
	}
}

// post makes one attempt. Errors name no URL: url.Error's text (which
// includes the query) is replaced by its cause.
func (w *Webhook) post(ctx context.Context, client *http.Client, target, sig string, body []byte) (permanentFailure bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return true, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "focal-notify")
	req.Header.Set(SignatureHeader, sig)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return permanent(err), err
	}
	defer resp.Body.Close()
	// Drain a little for connection reuse; the body is not used.
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)); err != nil {
		w.log().Debug("webhook answer", "err", err)
	}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c >= 300 && c < 400:
		return true, fmt.Errorf("answered %s: redirects are not followed", resp.Status)
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return false, fmt.Errorf("answered %s", resp.Status)
	default:
		return true, fmt.Errorf("answered %s", resp.Status)
	}
}

func (w *Webhook) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}
