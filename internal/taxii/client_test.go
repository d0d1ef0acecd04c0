package taxii_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/taxii"
)

func newClient(t *testing.T, e *env, user string) *taxii.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.caPEM)
	c, err := taxii.NewClient(taxii.ClientConfig{BaseURL: e.url, Username: user, Password: user + "-pw", RootCAs: pool, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClient runs focal's own client against focal's server: a second
// check of T11–T31 from the client side.
func TestClient(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ana := newClient(t, e, "ana")
		d, err := ana.Discovery(ctx)
		if err != nil || d.Default != taxii.APIRootPath {
			t.Fatalf("Discovery = %+v, %v", d, err)
		}
		if _, err := ana.APIRoot(ctx, d.Default); err != nil {
			t.Fatal(err)
		}
		cs, err := ana.Collections(ctx, d.Default)
		if err != nil || len(cs) != 1 || cs[0].ID != e.coll || !cs[0].CanWrite {
			t.Fatalf("Collections = %+v, %v", cs, err)
		}
		var objs []json.RawMessage
		var ids []string
		for i := range 23 {
			id := newID("indicator")
			b, _ := json.Marshal(sdo("indicator", id, time.Date(2024, 1, 1, 0, i, 0, 0, time.UTC), focal.TLPGreen))
			objs, ids = append(objs, b), append(ids, id)
		}
		st, err := ana.AddObjects(ctx, d.Default, e.coll, objs)
		if err != nil || st.SuccessCount != 23 {
			t.Fatalf("AddObjects = %+v, %v", st, err)
		}
		if got, err := ana.Status(ctx, d.Default, st.ID); err != nil || got.ID != st.ID {
			t.Errorf("Status = %+v, %v", got, err)
		}
		peer := newClient(t, e, "peer1")
		var got []string
		err = peer.AllObjects(ctx, d.Default, e.coll, taxii.Filter{Types: []string{"indicator"}}, 5, func(raw json.RawMessage) error {
			var o struct{ ID string }
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			got = append(got, o.ID)
			return nil
		})
		if err != nil || !slices.Equal(got, ids) {
			t.Errorf("AllObjects = %d objects, %v; want %d in order", len(got), err, len(ids))
		}
		m, info, err := peer.ManifestPage(ctx, d.Default, e.coll, taxii.Filter{}, 10, "")
		if err != nil || len(m.Objects) != 10 || !m.More || m.Next == "" || info.DateAddedFirst != m.Objects[0].DateAdded || info.DateAddedLast != m.Objects[9].DateAdded {
			t.Errorf("ManifestPage = %+v, %+v, %v", m, info, err)
		}
		// Errors come back as ClientError with the TAXII error resource.
		_, err = peer.AddObjects(ctx, d.Default, e.coll, objs[:1])
		var ce *taxii.ClientError
		if !errors.As(err, &ce) || ce.Status != 403 || ce.Title == "" {
			t.Errorf("AddObjects as a reader = %v, want a 403 ClientError", err)
		}
		bad, err := taxii.NewClient(taxii.ClientConfig{BaseURL: e.url, Username: "peer1", Password: "wrong", RootCAs: poolOf(e)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.Discovery(ctx); !errors.As(err, &ce) || ce.Status != 401 {
			t.Errorf("Discovery with a wrong password = %v, want 401", err)
		}
	})
}

func poolOf(e *env) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.caPEM)
	return pool
}

// The client falls back to added_after when a server says more without
// next (not focal, which always sends next; simulated by a wrapper).
func TestClientAddedAfterFallback(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ids := seeded(t, e, 9)
	c, err := taxii.NewClient(taxii.ClientConfig{BaseURL: e.url, Username: "ana", Password: "ana-pw", RootCAs: poolOf(e), Transport: stripNext{e.client.Transport}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = c.AllObjects(context.Background(), taxii.APIRootPath, e.coll, taxii.Filter{}, 4, func(raw json.RawMessage) error {
		var o struct{ ID string }
		_ = json.Unmarshal(raw, &o)
		got = append(got, o.ID)
		return nil
	})
	if err != nil || !slices.Equal(got, ids) {
		t.Errorf("AllObjects without next = %v, %v; want %v", got, err, ids)
	}
}

// stripNext removes next from every envelope, like a server that pages
// without cursors.
type stripNext struct{ rt http.RoundTripper }

func (s stripNext) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) == nil {
		delete(m, "next")
		b, _ = json.Marshal(m)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestCheckContentType(t *testing.T) {
	for _, tt := range []struct {
		ct string
		ok bool
	}{
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json; version=2.1", true},
		{"application/taxii+json;charset=utf-8;version=2.1", true},
		{"application/taxii+json", false},
		{"application/json", false},
		{"application/taxii+json;version=2.0", false},
		{"", false},
	} {
		if err := taxii.CheckContentType(tt.ct); (err == nil) != tt.ok {
			t.Errorf("CheckContentType(%q) = %v, want ok=%v", tt.ct, err, tt.ok)
		}
	}
}
