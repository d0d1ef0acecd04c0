package taxii_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

// allIDs pages through an objects (or manifest) path as user and returns
// every object id, failing on any status but 200.
func allIDs(t *testing.T, e *env, user, path string) []string {
	t.Helper()
	var out []string
	for _, p := range pages(t, e, user, path+"?", 500) {
		out = append(out, p...)
	}
	return out
}

// TestTLPFilterProperty checks, over random sharing groups and random
// labelled objects, that every peer, constituent and the public receive
// exactly the objects focal.ReleaseDecision lets go to them — the SQL
// filter is derived from it, this checks the derivation.
func TestTLPFilterProperty(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		rng := rand.New(rand.NewPCG(7, uint64(len(t.Name()))))
		ctx := sys()
		coll := e.collection("property", true)
		// Callers: four peers and two constituents (orgA, orgB).
		peers := []string{"p1", "p2", "p3", "p4"}
		for _, p := range peers {
			e.addUser(&focal.User{Name: p, Role: focal.RolePeer})
		}
		e.addUser(&focal.User{Name: "conb", Role: focal.RoleConstituent, OrgID: e.orgB})
		type member struct {
			user string
			org  int64
		}
		// Random groups; the model keeps, per caller, the best ceiling
		// among groups granting read on coll.
		ceilings := map[member]focal.TLP{}
		for g := range 5 {
			ceiling := []focal.TLP{focal.TLPGreen, focal.TLPAmber}[rng.IntN(2)]
			grp := &store.SharingGroup{Name: "g" + strconv.Itoa(g), Ceiling: ceiling}
			if err := e.st.CreateSharingGroup(ctx, grp); err != nil {
				t.Fatal(err)
			}
			grants := rng.IntN(3) > 0
			if grants {
				if err := e.st.GrantSharingCollection(ctx, grp.ID, store.SharingGrant{CollectionID: coll, CanRead: true}); err != nil {
					t.Fatal(err)
				}
			}
			var members []member
			for _, p := range peers {
				if rng.IntN(3) == 0 {
					members = append(members, member{user: p})
				}
			}
			for _, org := range []int64{e.orgA, e.orgB} {
				if rng.IntN(3) == 0 {
					members = append(members, member{org: org})
				}
			}
			for _, m := range members {
				sm := store.SharingMember{OrgID: m.org}
				if m.user != "" {
					sm = store.SharingMember{UserID: e.users[m.user].ID}
				}
				if err := e.st.AddSharingMember(ctx, grp.ID, sm); err != nil {
					t.Fatal(err)
				}
				if grants && ceiling.Rank() > ceilings[m].Rank() {
					ceilings[m] = ceiling
				}
			}
		}
		if len(ceilings) == 0 || len(ceilings) == len(peers)+2 {
			t.Fatalf("degenerate random model (%d of %d callers granted): change the seed", len(ceilings), len(peers)+2)
		}
		// Random objects.
		labels := []focal.TLP{"", focal.TLPClear, focal.TLPGreen, focal.TLPAmber, focal.TLPAmberStrict, focal.TLPRed}
		type object struct {
			id  string
			rel focal.Release
		}
		var objs []object
		var batch []map[string]any
		for i := range 120 {
			o := object{id: newID("indicator"), rel: focal.Release{TLP: labels[rng.IntN(len(labels))]}}
			s := sdo("indicator", o.id, time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC), o.rel.TLP)
			switch rng.IntN(3) {
			case 1:
				o.rel.OrgID = e.orgA
			case 2:
				o.rel.OrgID = e.orgB
			}
			if o.rel.OrgID != 0 {
				s["x_focal_organisation"] = o.rel.OrgID
			}
			objs = append(objs, o)
			batch = append(batch, s)
		}
		e.post("ana", coll, batch...)
		want := func(rec focal.Recipient) []string {
			var ids []string
			for _, o := range objs {
				if ok, _ := focal.ReleaseDecision(o.rel, rec); ok {
					ids = append(ids, o.id)
				}
			}
			return ids
		}
		check := func(user string, m member, rec focal.Recipient) {
			t.Helper()
			path := e.objectsPath(coll)
			if _, granted := ceilings[m]; !granted {
				if r := e.get(user, path); r.status != http.StatusNotFound {
					t.Errorf("%s in no group granting the collection: GET objects = %s, want 404", user, r)
				}
				return
			}
			rec.Ceiling = ceilings[m]
			if got, want := allIDs(t, e, user, path), want(rec); !slices.Equal(got, want) {
				t.Errorf("%s (%+v) receives %d objects, ReleaseDecision allows %d", user, rec, len(got), len(want))
			}
		}
		for _, p := range peers {
			check(p, member{user: p}, focal.Recipient{Kind: focal.RecipientPeer, ID: e.users[p].ID})
		}
		check("con", member{org: e.orgA}, focal.Recipient{Kind: focal.RecipientOrganisation, ID: e.orgA})
		check("conb", member{org: e.orgB}, focal.Recipient{Kind: focal.RecipientOrganisation, ID: e.orgB})
		// The public root: anyone, public collections, what the public may have.
		var got []string
		for _, p := range pagesPublic(t, e, taxii.PublicRootPath+"collections/"+coll+"/objects/") {
			got = append(got, p...)
		}
		if want := want(focal.Recipient{Kind: focal.RecipientPublic}); !slices.Equal(got, want) {
			t.Errorf("the public receives %d objects, ReleaseDecision allows %d", len(got), len(want))
		}
		// Staff see everything.
		if got := allIDs(t, e, "hal", e.objectsPath(coll)); len(got) != len(objs) {
			t.Errorf("a handler receives %d objects, want all %d", len(got), len(objs))
		}
	})
}

// pagesPublic pages anonymously.
func pagesPublic(t *testing.T, e *env, path string) [][]string {
	t.Helper()
	var out [][]string
	next := ""
	for range 100 {
		p := path + "?limit=7"
		if next != "" {
			p += "&next=" + next
		}
		r := e.do(call{path: p})
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %s", p, r)
		}
		var env envelopeRes
		r.json(t, &env)
		out = append(out, env.ids(t))
		if !env.More {
			return out
		}
		next = env.Next
	}
	t.Fatal("no end")
	return nil
}

func TestPublicRoot(t *testing.T) {
	e := newEnv(t, store.SQLite)
	pub := e.collection("public", true)
	clear, green := newID("indicator"), newID("indicator")
	e.post("ana", pub, sdo("indicator", clear, time.Now(), focal.TLPClear), sdo("indicator", green, time.Now(), focal.TLPGreen))
	r := e.do(call{path: taxii.PublicRootPath + "collections/"})
	var cs struct {
		Collections []collectionRes `json:"collections"`
	}
	r.json(t, &cs)
	if r.status != http.StatusOK || len(cs.Collections) != 1 || cs.Collections[0].ID != pub || !*cs.Collections[0].CanRead || *cs.Collections[0].CanWrite {
		t.Fatalf("anonymous public collections = %s, want only %s, read-only", r, pub)
	}
	var env envelopeRes
	e.do(call{path: taxii.PublicRootPath + "collections/" + pub + "/objects/"}).json(t, &env)
	if got := env.ids(t); !slices.Equal(got, []string{clear}) {
		t.Errorf("public objects = %v, want only the TLP:CLEAR %s", got, clear)
	}
	if r := e.do(call{path: taxii.PublicRootPath + "collections/" + pub + "/objects/" + green + "/"}); r.status != http.StatusNotFound {
		t.Errorf("a TLP:GREEN object on the public root = %s, want 404", r)
	}
	for _, c := range []call{
		{path: taxii.PublicRootPath + "collections/" + e.coll + "/"},
		{path: taxii.PublicRootPath + "collections/" + e.coll + "/objects/", user: "ana"},
	} {
		if r := e.do(c); r.status != http.StatusNotFound {
			t.Errorf("a private collection on the public root = %s, want 404", r)
		}
	}
	body := envelope(sdo("indicator", newID("indicator"), time.Now(), focal.TLPClear))
	for _, c := range []call{
		{method: "POST", path: taxii.PublicRootPath + "collections/" + pub + "/objects/", body: body},
		{method: "POST", path: taxii.PublicRootPath + "collections/" + pub + "/objects/", body: body, user: "ana"},
		{method: "DELETE", path: taxii.PublicRootPath + "collections/" + pub + "/objects/" + clear + "/", user: "ana"},
	} {
		if r := e.do(c); r.status != http.StatusForbidden {
			t.Errorf("%s on the public root = %s, want 403", c.method, r)
		}
	}
	if r := e.do(call{path: taxii.PublicRootPath}); r.status != http.StatusOK {
		t.Errorf("public api root = %s, want 200", r)
	}
}

func TestPeerWithoutGroups(t *testing.T) {
	e := newEnv(t, store.SQLite)
	seeded(t, e, 2)
	if r := e.get("peer2", taxii.APIRootPath+"collections/"); r.status != http.StatusOK || string(r.body) != "{}" {
		t.Errorf("collections for a peer in no group = %s, want {}", r)
	}
	for _, p := range []string{"", "objects/", "manifest/"} {
		if r := e.get("peer2", taxii.APIRootPath+"collections/"+e.coll+"/"+p); r.status != http.StatusNotFound {
			t.Errorf("GET collection/%s as a peer in no group = %s, want 404", p, r)
		}
	}
	// peer1 is in "community" (GREEN): it gets GREEN and CLEAR, not AMBER.
	amber, green := newID("indicator"), newID("indicator")
	e.post("ana", e.coll, sdo("indicator", amber, time.Now(), focal.TLPAmber), sdo("indicator", green, time.Now(), focal.TLPGreen))
	got := allIDs(t, e, "peer1", e.objectsPath(e.coll))
	if !slices.Contains(got, green) || slices.Contains(got, amber) {
		t.Errorf("community peer receives %v; want %s and not %s", got, green, amber)
	}
}

// An AMBER+STRICT object concerning an organisation goes to that
// organisation's constituents only; a peer cannot make an object
// "concern" one of ours.
func TestAmberStrictConcerned(t *testing.T) {
	e := newEnv(t, store.SQLite)
	strict := sdo("indicator", newID("indicator"), time.Now(), focal.TLPAmberStrict)
	strict["x_focal_organisation"] = strconv.FormatInt(e.orgA, 10)
	e.post("ana", e.coll, strict)
	if got := allIDs(t, e, "con", e.objectsPath(e.coll)); !slices.Equal(got, []string{strict["id"].(string)}) {
		t.Errorf("constituent of the organisation concerned receives %v", got)
	}
	if got := allIDs(t, e, "peer1", e.objectsPath(e.coll)); len(got) != 0 {
		t.Errorf("a peer receives AMBER+STRICT %v", got)
	}
	// A peer writing such an object does not get its organisation kept.
	e.grant("peer3", e.coll, true, true)
	forged := sdo("indicator", newID("indicator"), time.Now(), focal.TLPAmberStrict)
	forged["x_focal_organisation"] = e.orgA
	e.post("peer3", e.coll, forged)
	if got := allIDs(t, e, "con", e.objectsPath(e.coll)); slices.Contains(got, forged["id"].(string)) {
		t.Error("a peer's AMBER+STRICT object was released to the organisation it named")
	}
}

// TestCursorAcrossServers pages from one process and continues on another
// over the same database: next cursors are stateless and signed with a
// key the processes share.
func TestCursorAcrossServers(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dsn := storetest.DSN(t, d)
			open := func() *store.Store {
				st, err := store.Open(context.Background(), dsn, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if _, err := st.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				return st
			}
			a := newEnvOn(t, open())
			ids := seeded(t, a, 5)
			b := *a
			b.srv, b.taxii, b.caPEM = startServer(t, open(), t.TempDir())
			b.url, b.client = b.srv.URL(), httpsClient(t, b.caPEM)
			var env envelopeRes
			a.get("ana", a.objectsPath(a.coll)+"?limit=2").json(t, &env)
			if !env.More || env.Next == "" {
				t.Fatalf("page 1 = %+v", env)
			}
			next := env.Next
			env = envelopeRes{}
			r := b.get("ana", b.objectsPath(b.coll)+"?limit=10&next="+next)
			r.json(t, &env)
			if got := env.ids(t); r.status != http.StatusOK || !slices.Equal(got, ids[2:]) {
				t.Errorf("page 2 from the other process = %s, ids %v; want %v", r, got, ids[2:])
			}
			// A server on another database does not accept it.
			c := newEnv(t, d)
			if r := c.get("ana", c.objectsPath(c.coll)+"?limit=2&next="+next); r.status != http.StatusBadRequest {
				t.Errorf("a cursor from another node = %s, want 400", r)
			}
		})
	}
}

func TestForgedCursor(t *testing.T) {
	e := newEnv(t, store.SQLite)
	seeded(t, e, 4)
	var env envelopeRes
	e.get("ana", e.objectsPath(e.coll)+"?limit=1").json(t, &env)
	next := []byte(env.Next)
	next[10] ^= 2
	c := taxii.APIRootPath + "collections/" + e.coll + "/"
	for _, q := range []string{
		"objects/?next=" + string(next),
		"objects/?next=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"manifest/?next=" + env.Next, // another endpoint
		"objects/?next=" + env.Next + "&match[spec_version]=2.1",
	} {
		r := e.get("ana", c+q)
		var er map[string]any
		r.json(t, &er)
		if r.status != http.StatusBadRequest || er["http_status"] != "400" {
			t.Errorf("GET %s = %s, want 400", q, r)
		}
	}
}
