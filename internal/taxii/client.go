package taxii

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClientConfig configures a Client. BaseURL is required.
type ClientConfig struct {
	// BaseURL is the server, e.g. https://peer.example:8443; API root
	// paths are resolved against it.
	BaseURL string
	// Username and Password authenticate with HTTP Basic; Token, when set,
	// with Authorization: Bearer instead.
	Username, Password string
	Token              string
	// RootCAs verifies the server; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds each request, body included; default 60 s.
	Timeout time.Duration
	// MaxBodyBytes bounds each response body (a page); default 64 MiB.
	MaxBodyBytes int64
	// UserAgent defaults to "focal-taxii-client".
	UserAgent string
	// Transport replaces the HTTP transport (tests); RootCAs is then
	// ignored.
	Transport http.RoundTripper
}

// Client is a TAXII 2.1 client for focal's own use (federation with
// peers): discovery, API roots, collections, pages of manifests and
// objects, and adding objects. It checks responses the way taxii2-client
// does (the content type's first token exactly application/taxii+json,
// with version=2.1), reads bounded bodies, and is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	base *url.URL
	http *http.Client
}

// ClientError is a TAXII error answer: the HTTP status and the error
// resource's title and description, if it sent one.
type ClientError struct {
	Status      int
	Title       string
	Description string
}

func (e *ClientError) Error() string {
	msg := fmt.Sprintf("taxii: HTTP %d", e.Status)
	if e.Title != "" {
		msg += " " + e.Title
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("taxii client: base URL %q: want https://host[:port]", cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "focal-taxii-client"
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
		t.ResponseHeaderTimeout = cfg.Timeout
		tr = t
	}
	return &Client{cfg: cfg, base: base, http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}, nil
}

// Discovery is the discovery resource.
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the API root resource.
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// ManifestRecord is one object version of a manifest.
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest is one page of a manifest.
type Manifest struct {
	More    bool             `json:"more,omitempty"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// Envelope is one page of objects, or objects to add.
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// Status is the status resource of an add-objects request.
type Status struct {
	ID           string         `json:"id"`
	Status       string         `json:"status"`
	TotalCount   int            `json:"total_count"`
	SuccessCount int            `json:"success_count"`
	FailureCount int            `json:"failure_count"`
	PendingCount int            `json:"pending_count"`
	Successes    []StatusDetail `json:"successes,omitempty"`
	Failures     []StatusDetail `json:"failures,omitempty"`
}

// StatusDetail is one object of a status.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Filter holds the TAXII filters of a listing; zero fields are not sent.
type Filter struct {
	AddedAfter   string // a TAXII timestamp
	IDs          []string
	Types        []string
	Versions     []string
	SpecVersions []string
}

func (f Filter) values() url.Values {
	v := url.Values{}
	if f.AddedAfter != "" {
		v.Set("added_after", f.AddedAfter)
	}
	for k, vs := range map[string][]string{"match[id]": f.IDs, "match[type]": f.Types, "match[version]": f.Versions, "match[spec_version]": f.SpecVersions} {
		if len(vs) > 0 {
			v.Set(k, strings.Join(vs, ","))
		}
	}
	return v
}

// PageInfo is what a page's headers say: the date_added of its first and
// last record ("" for an empty page).
type PageInfo struct {
	DateAddedFirst, DateAddedLast string
}

// Discovery reads /taxii2/.
func (c *Client) Discovery(ctx context.Context) (*Discovery, error) {
	var d Discovery
	if _, err := c.do(ctx, "GET", PathPrefix, nil, nil, &d); err != nil {
		return nil, err
	}
	if d.Title == "" {
		return nil, errors.New("taxii client: discovery resource without title")
	}
	return &d, nil
}

// APIRoot reads an API root (a path such as /taxii2/focal/ or a URL).
func (c *Client) APIRoot(ctx context.Context, root string) (*APIRoot, error) {
	var a APIRoot
	if _, err := c.do(ctx, "GET", root, nil, nil, &a); err != nil {
		return nil, err
	}
	if a.Title == "" || len(a.Versions) == 0 || a.MaxContentLength <= 0 {
		return nil, errors.New("taxii client: API root resource lacks title, versions or max_content_length")
	}
	return &a, nil
}

// Collections lists an API root's collections.
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	var cs struct {
		Collections []Collection `json:"collections"`
	}
	if _, err := c.do(ctx, "GET", join(root, "collections/"), nil, nil, &cs); err != nil {
		return nil, err
	}
	for _, col := range cs.Collections {
		if col.ID == "" || col.Title == "" {
			return nil, errors.New("taxii client: collection without id or title")
		}
	}
	return cs.Collections, nil
}

// ManifestPage reads one page of a collection's manifest: limit records at
// most (0: the server's page size), after next (from the previous page;
// "" for the first).
func (c *Client) ManifestPage(ctx context.Context, root, collection string, f Filter, limit int, next string) (*Manifest, PageInfo, error) {
	var m Manifest
	info, err := c.do(ctx, "GET", join(root, "collections/"+url.PathEscape(collection)+"/manifest/"), pageQuery(f, limit, next), nil, &m)
	if err != nil {
		return nil, info, err
	}
	return &m, info, nil
}

// ObjectsPage reads one page of a collection's objects.
func (c *Client) ObjectsPage(ctx context.Context, root, collection string, f Filter, limit int, next string) (*Envelope, PageInfo, error) {
	var e Envelope
	info, err := c.do(ctx, "GET", join(root, "collections/"+url.PathEscape(collection)+"/objects/"), pageQuery(f, limit, next), nil, &e)
	if err != nil {
		return nil, info, err
	}
	return &e, info, nil
}

// maxPages bounds AllObjects against a server that never says "no more".
const maxPages = 1 << 20

// AllObjects reads every object of a collection matching f, page by page
// (limit per page), and calls fn for each in order. It follows next; when
// a server says more without a next, it continues with added_after set to
// the page's X-TAXII-Date-Added-Last (TAXII §3.5).
func (c *Client) AllObjects(ctx context.Context, root, collection string, f Filter, limit int, fn func(json.RawMessage) error) error {
	next := ""
	for range maxPages {
		env, info, err := c.ObjectsPage(ctx, root, collection, f, limit, next)
		if err != nil {
			return err
		}
		for _, o := range env.Objects {
			if err := fn(o); err != nil {
				return err
			}
		}
		switch {
		case !env.More:
			return nil
		case env.Next != "":
			next = env.Next
		case info.DateAddedLast != "" && info.DateAddedLast != f.AddedAfter:
			f.AddedAfter, next = info.DateAddedLast, ""
		default:
			return errors.New("taxii client: the server says more but gives neither next nor X-TAXII-Date-Added-Last")
		}
	}
	return errors.New("taxii client: too many pages")
}

// AddObjects posts objects to a collection in one envelope and returns
// the status.
func (c *Client) AddObjects(ctx context.Context, root, collection string, objects []json.RawMessage) (*Status, error) {
	body, err := json.Marshal(Envelope{Objects: objects})
	if err != nil {
		return nil, fmt.Errorf("taxii client: %w", err)
	}
	var st Status
	if _, err := c.do(ctx, "POST", join(root, "collections/"+url.PathEscape(collection)+"/objects/"), nil, body, &st); err != nil {
		return nil, err
	}
	if st.ID == "" || st.Status == "" {
		return nil, errors.New("taxii client: status resource without id or status")
	}
	return &st, nil
}

// Status reads a status resource.
func (c *Client) Status(ctx context.Context, root, id string) (*Status, error) {
	var st Status
	if _, err := c.do(ctx, "GET", join(root, "status/"+url.PathEscape(id)+"/"), nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func pageQuery(f Filter, limit int, next string) url.Values {
	q := f.values()
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if next != "" {
		q.Set("next", next)
	}
	return q
}

// join appends a relative path to an API root path, which ends in '/'.
func join(root, rel string) string {
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	return root + rel
}

// do sends one request and decodes a 2xx TAXII answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) (PageInfo, error) {
	var info PageInfo
	ref, err := url.Parse(path)
	if err != nil {
		return info, fmt.Errorf("taxii client: path %q: %w", path, err)
	}
	u := c.base.ResolveReference(ref)
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return info, fmt.Errorf("taxii client: %w", err)
	}
	req.Header.Set("Accept", MediaType)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	switch {
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	case c.cfg.Username != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return info, fmt.Errorf("taxii client: %s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return info, fmt.Errorf("taxii client: %s %s: read: %w", method, u.Redacted(), err)
	}
	if int64(len(b)) > c.cfg.MaxBodyBytes {
		return info, fmt.Errorf("taxii client: %s %s: response over %d bytes", method, u.Redacted(), c.cfg.MaxBodyBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ce := &ClientError{Status: resp.StatusCode}
		var er errorResource
		if json.Unmarshal(b, &er) == nil {
			ce.Title, ce.Description = er.Title, er.Description
		}
		return info, ce
	}
	if err := CheckContentType(resp.Header.Get("Content-Type")); err != nil {
		return info, err
	}
	info.DateAddedFirst, info.DateAddedLast = resp.Header.Get("X-TAXII-Date-Added-First"), resp.Header.Get("X-TAXII-Date-Added-Last")
	if err := json.Unmarshal(b, out); err != nil {
		return info, fmt.Errorf("taxii client: %s %s: decode: %w", method, u.Redacted(), err)
	}
	return info, nil
}

// CheckContentType applies taxii2-client's check to a response's
// Content-Type: spaces removed and split on ';', the first token must be
// exactly application/taxii+json and version=2.1 must be among the rest.
func CheckContentType(ct string) error {
	parts := strings.Split(strings.ReplaceAll(ct, " ", ""), ";")
	if parts[0] != taxiiMediaBase {
		return fmt.Errorf("taxii client: unexpected response Content-Type %q", ct)
	}
	for _, p := range parts[1:] {
		if p == "version=2.1" {
			return nil
		}
	}
	return fmt.Errorf("taxii client: response Content-Type %q is not TAXII 2.1", ct)
}
