package federation

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/store"
	"focal/internal/version"
)

// The TAXII 2.1 media types the client sends and expects.
const (
	taxiiMedia     = "application/taxii+json;version=2.1"
	taxiiMediaBase = "application/taxii+json"
)

// Defaults of the client.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxPageBytes = 64 << 20
	DefaultPageLimit    = 1000
)

// Client talks TAXII 2.1 to one peer's API root: it reads pages of a
// collection's objects and adds objects to it. Create it with NewClient;
// it is safe for concurrent use. Every request carries the peer's
// credentials, times out, and reads at most MaxPageBytes of a response.
// Error messages name the peer's URL and what went wrong, never the
// credentials.
type Client struct {
	http         *http.Client
	apiRoot      string
	auth         string
	username     string
	secret       string
	MaxPageBytes int64
}

// NewClient returns a client for peer p: TLS 1.2 or later, trusting
// p.CAPEM if set (else the system's roots), with timeout bounding each
// request from dial to the end of the body (0 means DefaultTimeout).
func NewClient(p *store.Peer, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if p.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(p.CAPEM)) {
			return nil, fmt.Errorf("peer %s: the CA PEM holds no certificate", p.Name)
		}
		tlsCfg.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Client{
		http:         &http.Client{Timeout: timeout, Transport: tr},
		apiRoot:      p.APIRoot,
		auth:         p.Auth,
		username:     p.Username,
		secret:       p.Secret,
		MaxPageBytes: DefaultMaxPageBytes,
	}, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Query selects a page of objects: AddedAfter (the server's own
// timestamp, sent back as it came), Next (the server's cursor from the
// previous page, sent with the same AddedAfter) and Limit.
type Query struct {
	AddedAfter string
	Next       string
	Limit      int
}

// Page is one envelope of objects with its X-TAXII-Date-Added-First and
// -Last headers ("" when the server sent none, as for an empty page).
type Page struct {
	More      bool
	Next      string
	Objects   []json.RawMessage
	AddedFrom string
	AddedLast string
}

// Objects reads one page of collection's objects
// (GET {api-root}/collections/{id}/objects/).
func (c *Client) Objects(ctx context.Context, collection string, q Query) (*Page, error) {
	v := url.Values{}
	if q.AddedAfter != "" {
		v.Set("added_after", q.AddedAfter)
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	u := c.apiRoot + "collections/" + url.PathEscape(collection) + "/objects/"
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	body, resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	var env struct {
		More    bool              `json:"more"`
		Next    string            `json:"next"`
		Objects []json.RawMessage `json:"objects"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("GET %s: the envelope is not valid JSON: %v", u, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("GET %s: data after the envelope", u)
	}
	return &Page{
		More: env.More, Next: env.Next, Objects: env.Objects,
		AddedFrom: resp.Header.Get("X-TAXII-Date-Added-First"),
		AddedLast: resp.Header.Get("X-TAXII-Date-Added-Last"),
	}, nil
}

// AddObjects posts objs to collection in one envelope
// (POST {api-root}/collections/{id}/objects/) and returns the status
// resource's counts.
func (c *Client) AddObjects(ctx context.Context, collection string, objs []json.RawMessage) (success, failure int, err error) {
	u := c.apiRoot + "collections/" + url.PathEscape(collection) + "/objects/"
	b, err := json.Marshal(struct {
		Objects []json.RawMessage `json:"objects"`
	}{objs})
	if err != nil {
		return 0, 0, fmt.Errorf("POST %s: %w", u, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return 0, 0, fmt.Errorf("POST %s: %w", u, err)
	}
	req.Header.Set("Content-Type", taxiiMedia)
	body, _, err := c.do(req)
	if err != nil {
		return 0, 0, err
	}
	var st struct {
		Success int `json:"success_count"`
		Failure int `json:"failure_count"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return 0, 0, fmt.Errorf("POST %s: the status is not valid JSON: %v", u, jsonProblem(err))
	}
	return st.Success, st.Failure, nil
}

// authorize adds the peer's credentials to req.
func (c *Client) authorize(req *http.Request) {
	switch c.auth {
	case store.PeerAuthBasic:
		req.SetBasicAuth(c.username, c.secret)
	case store.PeerAuthBearer:
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	ua := "focal"
	if version.Version != "" {
		ua += "/" + version.Version
	}
	req.Header.Set("User-Agent", ua)
}

// do sends a TAXII request and returns the body of a 2xx answer whose
// Content-Type is TAXII 2.1, read up to MaxPageBytes.
func (c *Client) do(req *http.Request) ([]byte, *http.Response, error) {
	req.Header.Set("Accept", taxiiMedia)
	c.authorize(req)
	what := req.Method + " " + req.URL.String()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", what, cleanErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, nil, fmt.Errorf("%s: %s%s", what, resp.Status, errorTitle(snippet))
	}
	if err := checkMediaType(resp.Header.Get("Content-Type")); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", what, err)
	}
	limit := c.MaxPageBytes
	if limit <= 0 {
		limit = DefaultMaxPageBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the body: %v", what, cleanErr(err))
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("%s: the response is larger than %d bytes", what, limit)
	}
	return body, resp, nil
}

// checkMediaType accepts a Content-Type as taxii2-client does: without
// spaces, split on ";", the first part exactly application/taxii+json
// and a part version=2.1.
func checkMediaType(ct string) error {
	parts := strings.Split(strings.ReplaceAll(strings.ToLower(ct), " ", ""), ";")
	if parts[0] != taxiiMediaBase {
		return fmt.Errorf("unexpected Content-Type %q: want %s", truncate(ct, 80), taxiiMedia)
	}
	for _, p := range parts[1:] {
		if p == "version=2.1" {
			return nil
		}
	}
	return fmt.Errorf("unexpected Content-Type %q: want version=2.1", truncate(ct, 80))
}

// errorTitle returns ": <title>" of a TAXII error resource, or "".
func errorTitle(b []byte) string {
	var e struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	if json.Unmarshal(b, &e) != nil || e.Title == "" {
		return ""
	}
	s := ": " + e.Title
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	return truncate(s, 300)
}

// cleanErr drops the *url.Error wrapper (which repeats the URL).
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s has the wrong type", te.Field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends early"
	}
	return "malformed JSON"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
