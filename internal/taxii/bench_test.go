package taxii_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

// BenchmarkServeObjects serves a 1,000,000-object collection (SQLite) in
// pages of 1,000 through the real handler chain (middleware, bearer
// authentication, route guard, TAXII handler, store) and reports
// objects/s, for a local analyst (no TLP filter) and for a community peer
// (TLP filter in SQL). Run it with:
//
//	go test ./internal/taxii/ -run '^$' -bench ServeObjects -benchtime 200x
func BenchmarkServeObjects(b *testing.B) {
	const total, page = 1_000_000, 1000
	st := storetest.Open(b, store.SQLite)
	ctx := sys()
	c := &store.TaxiiCollection{Title: "bench"}
	if err := st.CreateTaxiiCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	labels := []focal.TLP{focal.TLPClear, focal.TLPGreen, focal.TLPAmber}
	for i := 0; i < total; i += 10_000 {
		batch := make([]store.TaxiiObject, 0, 10_000)
		for j := i; j < i+10_000; j++ {
			id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", j, j)
			mod := base.Add(time.Duration(j) * time.Millisecond)
			tlp := labels[j%len(labels)]
			body := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2024-01-01T00:00:00.000Z","modified":"%s","name":"bench indicator %d","pattern":"[ipv4-addr:value = '198.51.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","object_marking_refs":["%s"]}`,
				id, mod.Format("2006-01-02T15:04:05.000Z"), j, (j>>8)&255, j&255, taxii.MarkingID(tlp))
			batch = append(batch, store.TaxiiObject{ID: id, Type: "indicator", SpecVersion: "2.1", Version: mod.UnixMicro(), TLP: tlp, Body: []byte(body)})
		}
		if _, err := st.AddTaxiiObjects(ctx, c.ID, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: %d objects stored in %s", total, time.Since(start).Round(time.Millisecond))

	logger := discard()
	ts, err := taxii.New(context.Background(), taxii.Config{Store: st, Logger: logger, PageSize: page})
	if err != nil {
		b.Fatal(err)
	}
	srv := &server.Server{Logger: logger, Registry: prometheus.NewRegistry(), Authenticate: httpauth.New(st, logger).Authenticate,
		PrefixErrors: map[string]server.ErrorFunc{taxii.PathPrefix: ts.Error}}
	if err := srv.Mount(ts.Routes(), ts.Error); err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	token := func(u *focal.User) string {
		if err := st.CreateUser(ctx, u, ""); err != nil {
			b.Fatal(err)
		}
		tok, hash, err := auth.NewToken(auth.APITokenPrefix)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateToken(ctx, &focal.Token{UserID: u.ID, Scope: "read", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
			b.Fatal(err)
		}
		return tok
	}
	peer := &focal.User{Name: "benchpeer", Role: focal.RolePeer}
	peerTok := token(peer)
	g := &store.SharingGroup{Name: "bench community", Ceiling: focal.TLPGreen}
	if err := st.CreateSharingGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	if err := st.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: peer.ID}); err != nil {
		b.Fatal(err)
	}
	if err := st.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: c.ID, CanRead: true}); err != nil {
		b.Fatal(err)
	}
	for _, caller := range []struct {
		name, token string
	}{
		// A local analyst: no TLP filter.
		{"analyst", token(&focal.User{Name: "bench", Role: focal.RoleAnalyst})},
		// A community peer: the TLP filter in SQL keeps 2 objects in 3.
		{"peer", peerTok},
	} {
		b.Run(caller.name, func(b *testing.B) {
			serveObjects(b, h, caller.token, taxii.APIRootPath+"collections/"+c.ID+"/objects/?limit=1000")
		})
	}
}

// serveObjects GETs pages through h, following next and starting over at
// the end, and reports objects/s.
func serveObjects(b *testing.B, h http.Handler, tok, path string) {
	next := ""
	served := 0
	for b.Loop() {
		p := path
		if next != "" {
			p += "&next=" + next
		}
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s = %d %s", p, rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
		}
		body := rec.Body.String()
		served += strings.Count(body, `{"type":"indicator"`)
		next = ""
		if strings.HasPrefix(body, `{"more":true,"next":"`) {
			rest := body[len(`{"more":true,"next":"`):]
			next = rest[:strings.IndexByte(rest, '"')]
		}
	}
	b.ReportMetric(float64(served)/b.Elapsed().Seconds(), "objects/s")
}
