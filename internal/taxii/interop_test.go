package taxii_test

// The TAXII 2.1 interop checklist (docs: /work/shared/notes/standards.md
// §1.8), one test per item, each against a real focal HTTPS server over a
// real store: SQLite always, PostgreSQL too when FOCAL_TEST_POSTGRES_URL
// is set.

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/taxii"
)

var uuid4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// seeded is an env with objects: n indicators posted by ana, one envelope
// each so their date_added differ.
func seeded(t *testing.T, e *env, n int) []string {
	t.Helper()
	var ids []string
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		id := newID("indicator")
		typ := "indicator"
		if i%3 == 2 {
			id, typ = newID("malware"), "malware"
		}
		e.post("ana", e.coll, sdo(typ, id, base.Add(time.Duration(i)*time.Minute), focal.TLPGreen))
		ids = append(ids, id)
	}
	return ids
}

// endpoints returns a request for each of E1–E11 on the main API root.
func endpoints(e *env, objectID, deleteID, statusID string) []call {
	c := taxii.APIRootPath + "collections/" + e.coll + "/"
	obj := envelope(sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen))
	return []call{
		{path: taxii.PathPrefix},
		{path: taxii.APIRootPath},
		{path: taxii.APIRootPath + "status/" + statusID + "/"},
		{path: taxii.APIRootPath + "collections/"},
		{path: c},
		{path: c + "manifest/"},
		{path: c + "objects/"},
		{method: "POST", path: c + "objects/", body: obj},
		{path: c + "objects/" + objectID + "/"},
		{method: "DELETE", path: c + "objects/" + deleteID + "/"},
		{path: c + "objects/" + objectID + "/versions/"},
	}
}

func TestT01TLSVersions(t *testing.T) {
	e := newEnv(t, store.SQLite)
	addr := strings.TrimPrefix(e.url, "https://")
	pool := e.client.Transport.(*http.Transport).TLSClientConfig.RootCAs
	tests := []struct {
		name    string
		min     uint16
		max     uint16
		suites  []uint16
		wantErr bool
	}{
		{"tls1.0", tls.VersionTLS10, tls.VersionTLS10, nil, true},
		{"tls1.1", tls.VersionTLS10, tls.VersionTLS11, nil, true},
		{"tls1.2", tls.VersionTLS12, tls.VersionTLS12, nil, false},
		{"tls1.3", tls.VersionTLS13, tls.VersionTLS13, nil, false},
		{"tls1.2-cbc-only", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites})
			if tt.wantErr {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake with %s succeeded, want refused", tt.name)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake with %s: %v", tt.name, err)
			}
			defer conn.Close()
			if v := conn.ConnectionState().Version; v != tt.max {
				t.Errorf("negotiated %s, want %s", tls.VersionName(v), tls.VersionName(tt.max))
			}
			if tt.max == tls.VersionTLS12 && !strings.Contains(tls.CipherSuiteName(conn.ConnectionState().CipherSuite), "ECDHE") {
				t.Errorf("cipher suite %s is not ECDHE", tls.CipherSuiteName(conn.ConnectionState().CipherSuite))
			}
		})
	}
}

func TestT02NoCredentials(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for i, c := range endpoints(e, newID("indicator"), newID("indicator"), store.NewUUID()) {
		t.Run("E"+strconv.Itoa(i+1), func(t *testing.T) {
			r := e.do(c)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s %s without credentials = %s, want 401", c.method, c.path, r)
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="focal"`) {
				t.Errorf("WWW-Authenticate = %q, want Basic realm=\"focal\"", got)
			}
			if got := r.header.Get("Content-Type"); got != taxii.MediaType {
				t.Errorf("Content-Type = %q, want %q", got, taxii.MediaType)
			}
		})
	}
}

func TestT03BasicAuth(t *testing.T) {
	e := newEnv(t, store.SQLite)
	if r := e.get("peer1", taxii.PathPrefix); r.status != http.StatusOK {
		t.Fatalf("GET /taxii2/ with right Basic credentials = %s, want 200", r)
	}
	for _, c := range []call{
		{path: taxii.PathPrefix, user: "peer1", password: "wrong"},
		{path: taxii.PathPrefix, user: "nobody", password: "x"},
		{path: taxii.APIRootPath + "collections/", user: "peer1", password: "wrong"},
		{path: taxii.PathPrefix, header: map[string]string{"Authorization": "Basic !!!"}},
		{path: "/taxii2", user: "peer1", password: "wrong"},
	} {
		r := e.do(c)
		if r.status != http.StatusUnauthorized {
			t.Errorf("GET %s as %s/%s = %s, want 401", c.path, c.user, c.password, r)
		}
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic realm=") {
			t.Errorf("WWW-Authenticate = %q", got)
		}
		if got := r.header.Get("Content-Type"); got != taxii.MediaType {
			t.Errorf("401 Content-Type = %q, want %q", got, taxii.MediaType)
		}
	}
	// A bearer token works too.
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateToken(sys(), &focal.Token{UserID: e.users["peer1"].ID, Scope: "read", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		t.Fatal(err)
	}
	if r := e.do(call{path: taxii.PathPrefix, header: map[string]string{"Authorization": "Bearer " + tok}}); r.status != http.StatusOK {
		t.Errorf("GET /taxii2/ with a bearer token = %s, want 200", r)
	}
}

func TestT04NoUserAgent(t *testing.T) {
	e := newEnv(t, store.SQLite)
	r := e.do(call{path: taxii.APIRootPath + "collections/", user: "peer1", header: map[string]string{"User-Agent": ""}})
	if r.status != http.StatusOK {
		t.Fatalf("GET collections without User-Agent = %s, want 200", r)
	}
}

// e1to11 seeds one object and one status and returns the calls of every
// endpoint as ana, who may read and write.
func e1to11(t *testing.T, e *env) []call {
	t.Helper()
	id, del := newID("indicator"), newID("indicator")
	st := e.post("ana", e.coll, sdo("indicator", id, time.Now(), focal.TLPGreen), sdo("indicator", del, time.Now(), ""))
	calls := endpoints(e, id, del, st.ID)
	for i := range calls {
		calls[i].user = "ana"
	}
	return calls
}

func TestT05ContentType(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		for i, c := range e1to11(t, e) {
			r := e.do(c)
			if r.status >= 300 {
				t.Errorf("E%d %s %s = %s, want 2xx", i+1, c.method, c.path, r)
			}
			if got := r.header.Get("Content-Type"); got != taxii.MediaType {
				t.Errorf("E%d Content-Type = %q, want %q", i+1, got, taxii.MediaType)
			}
			taxii2ClientCheck(t, r, taxii.MediaType)
		}
		// Error bodies too.
		r := e.get("ana", taxii.APIRootPath+"collections/"+store.NewUUID()+"/")
		if r.status != http.StatusNotFound || r.header.Get("Content-Type") != taxii.MediaType {
			t.Errorf("unknown collection = %s, Content-Type %q; want 404 with %q", r, r.header.Get("Content-Type"), taxii.MediaType)
		}
		var er struct {
			Title      string `json:"title"`
			HTTPStatus string `json:"http_status"`
		}
		r.json(t, &er)
		if er.Title == "" || er.HTTPStatus != "404" {
			t.Errorf("error resource = %s, want title and http_status 404", r.body)
		}
	})
}

func TestT06AcceptNoVersion(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for i, c := range e1to11(t, e) {
		c.accept = "application/taxii+json"
		r := e.do(c)
		if r.status >= 300 || r.header.Get("Content-Type") != taxii.MediaType {
			t.Errorf("E%d with Accept application/taxii+json = %s, Content-Type %q; want 2xx and %q", i+1, r, r.header.Get("Content-Type"), taxii.MediaType)
		}
	}
}

func TestT07AcceptWrongVersion(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for i, c := range e1to11(t, e) {
		c.accept = "application/taxii+json;version=2.0"
		r := e.do(c)
		if r.status != http.StatusNotAcceptable {
			t.Errorf("E%d with version=2.0 = %s, want 406", i+1, r)
			continue
		}
		var er map[string]any
		r.json(t, &er)
		if er["title"] == nil || er["http_status"] != "406" {
			t.Errorf("E%d 406 body = %s, want an error resource", i+1, r.body)
		}
		if got := r.header.Get("Content-Type"); got != taxii.MediaType {
			t.Errorf("E%d 406 Content-Type = %q", i+1, got)
		}
	}
}

// T08: focal is lenient (documented in docs/taxii.md): application/json
// and */* get 200 with the TAXII content type.
func TestT08AcceptLenient(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, accept := range []string{"application/json", "*/*", "-",
		"application/taxii+json;version=2.1,application/stix+json;version=2.1",
		"application/taxii+json; version=2.1", "text/html, */*;q=0.8"} {
		r := e.do(call{path: taxii.APIRootPath + "collections/", user: "peer1", accept: accept})
		if r.status != http.StatusOK || r.header.Get("Content-Type") != taxii.MediaType {
			t.Errorf("Accept %q = %s, Content-Type %q; want 200 with %q", accept, r, r.header.Get("Content-Type"), taxii.MediaType)
		}
	}
	for _, accept := range []string{"text/html", "application/xml", "application/stix+json;version=2.1"} {
		if r := e.do(call{path: taxii.APIRootPath + "collections/", user: "peer1", accept: accept}); r.status != http.StatusNotAcceptable {
			t.Errorf("Accept %q = %s, want 406", accept, r)
		}
	}
}

func TestT09PostContentType(t *testing.T) {
	e := newEnv(t, store.SQLite)
	body := envelope(sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen))
	for _, tt := range []struct {
		ctype string
		want  int
	}{
		{"application/json", http.StatusUnsupportedMediaType},
		{"application/stix+json;version=2.1", http.StatusUnsupportedMediaType},
		{"application/taxii+json;version=2.0", http.StatusUnsupportedMediaType},
		{taxii.MediaType, http.StatusAccepted},
		{"application/taxii+json", http.StatusAccepted},
		{"application/taxii+json; version=2.1", http.StatusAccepted},
	} {
		r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "ana", body: body, ctype: tt.ctype})
		if r.status != tt.want {
			t.Errorf("POST with Content-Type %q = %s, want %d", tt.ctype, r, tt.want)
		}
		if got := r.header.Get("Content-Type"); got != taxii.MediaType {
			t.Errorf("POST with Content-Type %q: response Content-Type %q", tt.ctype, got)
		}
	}
}

// T10: a path without its trailing slash is redirected with 308 (method
// and body kept) to the slashed path.
func TestT10TrailingSlash(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, tt := range []struct{ path, want string }{
		{"/taxii2", "/taxii2/"},
		{"/taxii2/focal", "/taxii2/focal/"},
		{"/taxii2/focal/collections", "/taxii2/focal/collections/"},
		{"/taxii2/focal/collections/" + e.coll + "/objects?limit=2", "/taxii2/focal/collections/" + e.coll + "/objects/?limit=2"},
	} {
		r := e.do(call{path: tt.path, user: "peer1"})
		if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != tt.want {
			t.Errorf("GET %s = %d Location %q, want 308 to %s", tt.path, r.status, r.header.Get("Location"), tt.want)
		}
	}
	if r := e.do(call{path: "/taxii2/nowhere/", user: "peer1"}); r.status != http.StatusNotFound || r.header.Get("Content-Type") != taxii.MediaType {
		t.Errorf("GET /taxii2/nowhere/ = %s, want a TAXII 404", r)
	}
	if r := e.do(call{method: "PUT", path: "/taxii2/focal/collections/", user: "peer1"}); r.status != http.StatusMethodNotAllowed || r.header.Get("Content-Type") != taxii.MediaType {
		t.Errorf("PUT /taxii2/focal/collections/ = %s, want a TAXII 405", r)
	}
}

func TestT11Discovery(t *testing.T) {
	e := newEnv(t, store.SQLite)
	r := e.get("peer1", taxii.PathPrefix)
	var d struct {
		Title    string   `json:"title"`
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	r.json(t, &d)
	if d.Title == "" {
		t.Error("discovery has no title")
	}
	for _, root := range d.APIRoots {
		if !(strings.HasPrefix(root, "https://") || strings.HasPrefix(root, "/") && !strings.HasPrefix(root, "//")) || strings.Contains(root, "?") {
			t.Errorf("api_root %q is neither https-absolute nor /-relative without query", root)
		}
	}
	if !slices.Contains(d.APIRoots, d.Default) {
		t.Errorf("default %q not in api_roots %v", d.Default, d.APIRoots)
	}
}

func TestT12APIRoot(t *testing.T) {
	e := newEnv(t, store.SQLite)
	for _, root := range []string{taxii.APIRootPath, taxii.PublicRootPath} {
		r := e.get("peer1", root)
		var a struct {
			Title            string   `json:"title"`
			Versions         []string `json:"versions"`
			MaxContentLength any      `json:"max_content_length"`
		}
		r.json(t, &a)
		if a.Title == "" || !slices.Contains(a.Versions, "application/taxii+json;version=2.1") {
			t.Errorf("api root %s = %s", root, r.body)
		}
		if n, ok := a.MaxContentLength.(float64); !ok || n <= 0 || n != float64(int64(n)) {
			t.Errorf("max_content_length = %v, want a positive integer", a.MaxContentLength)
		}
	}
}

type collectionRes struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Alias      string   `json:"alias"`
	CanRead    *bool    `json:"can_read"`
	CanWrite   *bool    `json:"can_write"`
	MediaTypes []string `json:"media_types"`
}

func TestT13Collections(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		for i := range 4 {
			e.collection("extra "+strconv.Itoa(i), false)
		}
		first := e.get("ana", taxii.APIRootPath+"collections/")
		second := e.get("ana", taxii.APIRootPath+"collections/")
		if string(first.body) != string(second.body) {
			t.Errorf("collections differ between calls:\n%s\n%s", first.body, second.body)
		}
		var cs struct {
			Collections []collectionRes `json:"collections"`
		}
		first.json(t, &cs)
		if len(cs.Collections) != 5 {
			t.Fatalf("ana sees %d collections, want 5", len(cs.Collections))
		}
		for _, c := range cs.Collections {
			if !uuid4RE.MatchString(c.ID) || c.Title == "" || c.CanRead == nil || c.CanWrite == nil {
				t.Errorf("collection %+v lacks a UUIDv4 id, title, can_read or can_write", c)
			}
		}
		if r := e.get("peer2", taxii.APIRootPath+"collections/"); r.status != http.StatusOK || string(r.body) != "{}" {
			t.Errorf("collections for a peer in no group = %s, want 200 {}", r)
		}
	})
}

func TestT14CollectionByID(t *testing.T) {
	e := newEnv(t, store.SQLite)
	var cs struct {
		Collections []collectionRes `json:"collections"`
	}
	e.get("peer1", taxii.APIRootPath+"collections/").json(t, &cs)
	if len(cs.Collections) != 1 {
		t.Fatalf("peer1 sees %d collections, want 1", len(cs.Collections))
	}
	var c collectionRes
	e.get("peer1", taxii.APIRootPath+"collections/"+e.coll+"/").json(t, &c)
	want, _ := json.Marshal(cs.Collections[0])
	got, _ := json.Marshal(c)
	if string(got) != string(want) {
		t.Errorf("collection by id = %s, want the list entry %s", got, want)
	}
	if *c.CanRead != true || *c.CanWrite != false {
		t.Errorf("peer1 can_read/can_write = %v/%v, want true/false", *c.CanRead, *c.CanWrite)
	}
	if r := e.get("peer1", taxii.APIRootPath+"collections/"+store.NewUUID()+"/"); r.status != http.StatusNotFound {
		t.Errorf("unknown collection = %s, want 404", r)
	}
	// The alias works in place of the id.
	if r := e.get("peer1", taxii.APIRootPath+"collections/indicators/"); r.status != http.StatusOK {
		t.Errorf("collection by alias = %s, want 200", r)
	}
}

func TestT15NoEmptyArrays(t *testing.T) {
	e := newEnv(t, store.SQLite)
	calls := e1to11(t, e)
	empty := e.collection("empty", false)
	c := taxii.APIRootPath + "collections/" + empty + "/"
	calls = append(calls,
		call{path: c + "manifest/", user: "ana"},
		call{path: c + "objects/", user: "ana"},
		call{path: c + "objects/?match[type]=malware", user: "ana"},
		call{path: taxii.APIRootPath + "collections/", user: "peer2"},
		call{path: c + "objects/" + newID("indicator") + "/", user: "ana"},
		call{path: taxii.PublicRootPath + "collections/", user: "peer2"},
	)
	for _, cl := range calls {
		r := e.do(cl)
		noEmptyArrays(t, cl.method+" "+cl.path, r.body)
	}
	if r := e.get("ana", c+"objects/"); string(r.body) != "{}" {
		t.Errorf("empty envelope = %s, want {}", r.body)
	}
}

func TestT16AddObjectsStatus(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		now := time.Now()
		st := e.post("ana", e.coll,
			sdo("indicator", newID("indicator"), now, focal.TLPGreen),
			sdo("malware", newID("malware"), now, ""),
			sdo("campaign", newID("campaign"), now, focal.TLPClear))
		if !uuid4RE.MatchString(st.ID) || (st.Status != "complete" && st.Status != "pending") {
			t.Errorf("status id %q status %q", st.ID, st.Status)
		}
		if st.TotalCount != 3 || st.SuccessCount+st.FailureCount+st.PendingCount != st.TotalCount || st.SuccessCount != 3 {
			t.Errorf("counts = %+v, want 3 successes of 3", st)
		}
		r := e.get("ana", taxii.APIRootPath+"status/"+st.ID+"/")
		var got statusRes
		r.json(t, &got)
		if r.status != http.StatusOK || got.ID != st.ID || got.TotalCount != 3 {
			t.Errorf("GET status = %s", r)
		}
		if r := e.get("boss", taxii.APIRootPath+"status/"+st.ID+"/"); r.status != http.StatusOK {
			t.Errorf("GET status as a coordinator = %s, want 200", r)
		}
		if r := e.get("hal", taxii.APIRootPath+"status/"+st.ID+"/"); r.status != http.StatusNotFound {
			t.Errorf("GET another account's status = %s, want 404", r)
		}
		if r := e.get("ana", taxii.APIRootPath+"status/"+store.NewUUID()+"/"); r.status != http.StatusNotFound {
			t.Errorf("GET unknown status = %s, want 404", r)
		}
	})
}

func TestT17Duplicates(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		o := sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen)
		e.post("ana", e.coll, o)
		st := e.post("ana", e.coll, o, o)
		if st.SuccessCount != 2 || st.FailureCount != 0 {
			t.Errorf("re-posting = %+v, want 2 successes, no failure", st)
		}
		var env envelopeRes
		e.get("ana", e.objectsPath(e.coll)+o["id"].(string)+"/?match[version]=all").json(t, &env)
		if len(env.Objects) != 1 {
			t.Errorf("object stored %d times, want once", len(env.Objects))
		}
	})
}

func TestT18MaxContentLength(t *testing.T) {
	e := newEnv(t, store.SQLite)
	const max = 1 << 20 // startServer's MaxContentLength
	big := func(size int) string {
		o := sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen)
		o["description"] = ""
		n := size - len(envelope(o))
		o["description"] = strings.Repeat("a", n)
		return envelope(o)
	}
	under := big(max)
	if len(under) != max {
		t.Fatalf("test envelope is %d bytes, want %d", len(under), max)
	}
	if r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "ana", body: under}); r.status != http.StatusAccepted {
		t.Errorf("POST of exactly max_content_length = %s, want 202", r)
	}
	if r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "ana", body: big(max + 1)}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST over max_content_length = %s, want 413", r)
	}
}

func TestT19BadEnvelope(t *testing.T) {
	e := newEnv(t, store.SQLite)
	bad3 := sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen)
	bad3["spec_version"] = "3.0"
	noType := sdo("indicator", newID("indicator"), time.Now(), "")
	delete(noType, "type")
	wrongPrefix := sdo("malware", newID("indicator"), time.Now(), "")
	noModified := sdo("indicator", newID("indicator"), time.Now(), "")
	delete(noModified, "modified")
	delete(noModified, "created")
	for _, tt := range []struct {
		name, body string
		want       []int
	}{
		{"malformed", `{"objects":[{"type":`, []int{400}},
		{"not-an-envelope", `[1,2]`, []int{400}},
		{"objects-not-list", `{"objects":"x"}`, []int{400}},
		{"spec-version-3", envelope(bad3), []int{400, 422}},
		{"no-type", envelope(noType), []int{400, 422}},
		{"wrong-prefix", envelope(wrongPrefix), []int{400, 422}},
		{"no-created-modified", envelope(noModified), []int{400, 422}},
	} {
		r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "ana", body: tt.body})
		if !slices.Contains(tt.want, r.status) {
			t.Errorf("%s: POST = %s, want %v", tt.name, r, tt.want)
		}
	}
	// One good object among bad ones: 202, the bad ones listed as failures.
	good := sdo("indicator", newID("indicator"), time.Now(), focal.TLPGreen)
	r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "ana", body: envelope(good, bad3, noType)})
	var st statusRes
	r.json(t, &st)
	if r.status != http.StatusAccepted || st.SuccessCount != 1 || st.FailureCount != 2 || st.TotalCount != 3 {
		t.Errorf("mixed envelope = %s, want 202 with 1 success and 2 failures", r)
	}
	for _, f := range st.Failures {
		if f.Message == "" {
			t.Errorf("failure %+v has no message", f)
		}
	}
}

func TestT20ObjectsSorted(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ids := seeded(t, e, 8)
		var env envelopeRes
		e.get("ana", e.objectsPath(e.coll)).json(t, &env)
		var man manifestRes
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/manifest/").json(t, &man)
		got := env.ids(t)
		if !slices.Equal(got, ids) {
			t.Errorf("objects in order %v, want posting order %v", got, ids)
		}
		for i, m := range man.Objects {
			if m.ID != got[i] {
				t.Errorf("manifest[%d] = %s, objects[%d] = %s", i, m.ID, i, got[i])
			}
			if i > 0 && m.DateAdded <= man.Objects[i-1].DateAdded {
				t.Errorf("date_added not ascending: %s after %s", m.DateAdded, man.Objects[i-1].DateAdded)
			}
		}
	})
}

func TestT21DateAddedHeaders(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ids := seeded(t, e, 4)
		var man manifestRes
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/manifest/").json(t, &man)
		c := taxii.APIRootPath + "collections/" + e.coll + "/"
		for _, tt := range []struct{ path, first, last string }{
			{c + "manifest/", man.Objects[0].DateAdded, man.Objects[3].DateAdded},
			{c + "objects/", man.Objects[0].DateAdded, man.Objects[3].DateAdded},
			{c + "objects/?limit=2", man.Objects[0].DateAdded, man.Objects[1].DateAdded},
			{c + "objects/" + ids[1] + "/", man.Objects[1].DateAdded, man.Objects[1].DateAdded},
			{c + "objects/" + ids[2] + "/versions/", man.Objects[2].DateAdded, man.Objects[2].DateAdded},
		} {
			r := e.get("ana", tt.path)
			first, last := r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last")
			if !timestampRE.MatchString(first) || !timestampRE.MatchString(last) {
				t.Errorf("%s: headers %q, %q are not TAXII timestamps", tt.path, first, last)
			}
			if first != tt.first || last != tt.last {
				t.Errorf("%s: headers %s..%s, want %s..%s", tt.path, first, last, tt.first, tt.last)
			}
		}
		// Empty results carry neither header (documented).
		r := e.get("ana", c+"objects/?match[type]=grouping")
		if r.header.Get("X-TAXII-Date-Added-First") != "" || r.header.Get("X-TAXII-Date-Added-Last") != "" {
			t.Errorf("empty result has date headers %v", r.header)
		}
	})
}

// pages follows next from path (whose query must end with limit) and
// returns every page's ids.
func pages(t *testing.T, e *env, user, path string, limit int) [][]string {
	t.Helper()
	var out [][]string
	next := ""
	for range 1000 {
		p := path + "limit=" + strconv.Itoa(limit)
		if next != "" {
			p += "&next=" + next
		}
		r := e.get(user, p)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %s", p, r)
		}
		var env envelopeRes
		r.json(t, &env)
		ids := env.ids(t)
		if len(ids) > limit {
			t.Fatalf("page of %d objects with limit=%d", len(ids), limit)
		}
		if env.More && env.Next == "" {
			t.Fatalf("more:true without next")
		}
		out = append(out, ids)
		if !env.More {
			return out
		}
		next = env.Next
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestT22Pagination(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ids := seeded(t, e, 7)
		base := e.objectsPath(e.coll) + "?"
		for limit := 1; limit <= 8; limit++ {
			var all []string
			for _, p := range pages(t, e, "ana", base, limit) {
				all = append(all, p...)
			}
			if !slices.Equal(all, ids) {
				t.Errorf("limit=%d: pages give %v, want %v", limit, all, ids)
			}
		}
		// With a filter, the same filter must come with next.
		var env envelopeRes
		e.get("ana", base+"match[type]=indicator&limit=2").json(t, &env)
		if !env.More || env.Next == "" {
			t.Fatalf("first page = %+v, want more and next", env)
		}
		if r := e.get("ana", base+"match[type]=indicator&limit=2&next="+env.Next); r.status != http.StatusOK {
			t.Errorf("next with the same filters = %s, want 200", r)
		}
		for _, other := range []string{"match[type]=malware", "", "match[type]=indicator&added_after=2020-01-01T00:00:00Z", "match[type]=indicator&match[version]=all"} {
			if r := e.get("ana", base+other+"&limit=2&next="+env.Next); r.status != http.StatusBadRequest {
				t.Errorf("next with filters %q = %s, want 400", other, r)
			}
		}
		// Another limit with the same filters is fine (taxii2-client lowers it).
		if r := e.get("ana", base+"match[type]=indicator&limit=1&next="+env.Next); r.status != http.StatusOK {
			t.Errorf("next with another limit = %s, want 200", r)
		}
	})
}

func TestT23BadParams(t *testing.T) {
	e := newEnv(t, store.SQLite)
	base := e.objectsPath(e.coll) + "?"
	for _, q := range []string{"limit=0", "limit=-1", "limit=abc", "limit=", "added_after=notatime",
		"added_after=2020-01-01T00:00:00Z&added_after=2021-01-01T00:00:00Z", "match[type]=indicator&match[type]=malware",
		"match[version]=all,first", "match[version]=last,last", "match[id]=nonsense", "match[type]=Indicator,",
		"match[spec_version]=two", "next=garbage", "limit=1&limit=2", "a=%zz"} {
		if r := e.get("ana", base+q); r.status != http.StatusBadRequest {
			t.Errorf("GET objects?%s = %s, want 400", q, r)
		}
	}
}

func TestT24AddedAfter(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ids := seeded(t, e, 6)
		r := e.get("ana", e.objectsPath(e.coll)+"?limit=3")
		last := r.header.Get("X-TAXII-Date-Added-Last")
		var env envelopeRes
		e.get("ana", e.objectsPath(e.coll)+"?added_after="+last).json(t, &env)
		if got := env.ids(t); !slices.Equal(got, ids[3:]) {
			t.Errorf("added_after=%s gives %v, want %v", last, got, ids[3:])
		}
	})
}

func TestT25MatchType(t *testing.T) {
	e := newEnv(t, store.SQLite)
	now := time.Now()
	e.post("ana", e.coll, sdo("indicator", newID("indicator"), now, ""), sdo("malware", newID("malware"), now, ""),
		sdo("campaign", newID("campaign"), now, ""), sdo("tool", newID("tool"), now, ""))
	var env envelopeRes
	e.get("ana", e.objectsPath(e.coll)+"?match[type]=indicator,malware").json(t, &env)
	for _, id := range env.ids(t) {
		if !strings.HasPrefix(id, "indicator--") && !strings.HasPrefix(id, "malware--") {
			t.Errorf("match[type]=indicator,malware returned %s", id)
		}
	}
	if len(env.Objects) != 2 {
		t.Errorf("match[type]=indicator,malware returned %d objects, want 2", len(env.Objects))
	}
	if r := e.get("ana", e.objectsPath(e.coll)+"?match[type]=grouping"); r.status != http.StatusOK || string(r.body) != "{}" {
		t.Errorf("match[type] of an absent type = %s, want 200 {}", r)
	}
}

func TestT26MatchID(t *testing.T) {
	e := newEnv(t, store.SQLite)
	ids := seeded(t, e, 5)
	var env envelopeRes
	e.get("ana", e.objectsPath(e.coll)+"?match[id]="+ids[1]+","+ids[3]).json(t, &env)
	if got := env.ids(t); !slices.Equal(got, []string{ids[1], ids[3]}) {
		t.Errorf("match[id] = %v, want %v", got, []string{ids[1], ids[3]})
	}
}

// threeVersions posts three versions of one indicator and returns its id
// and modified times.
func threeVersions(t *testing.T, e *env) (string, []time.Time) {
	t.Helper()
	id := newID("indicator")
	var mods []time.Time
	for i := range 3 {
		m := time.Date(2024, 5, 1, 10, i, 0, 0, time.UTC)
		mods = append(mods, m)
		e.post("ana", e.coll, sdo("indicator", id, m, focal.TLPGreen))
	}
	return id, mods
}

func modifiedOf(t *testing.T, env envelopeRes) []string {
	t.Helper()
	var out []string
	for _, raw := range env.Objects {
		var o struct {
			Modified string `json:"modified"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o.Modified)
	}
	return out
}

func TestT27MatchVersion(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		id, mods := threeVersions(t, e)
		stix := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"", []string{stix(mods[2])}},
			{"match[version]=last", []string{stix(mods[2])}},
			{"match[version]=first", []string{stix(mods[0])}},
			{"match[version]=all", []string{stix(mods[0]), stix(mods[1]), stix(mods[2])}},
			{"match[version]=" + stix(mods[1]), []string{stix(mods[1])}},
			{"match[version]=" + taxii.FormatTimestamp(mods[1]), []string{stix(mods[1])}},
			{"match[version]=first,last", []string{stix(mods[0]), stix(mods[2])}},
		} {
			for _, path := range []string{e.objectsPath(e.coll) + "?match[id]=" + id + "&", e.objectsPath(e.coll) + id + "/?"} {
				var env envelopeRes
				e.get("ana", path+tt.q).json(t, &env)
				if got := modifiedOf(t, env); !slices.Equal(got, tt.want) {
					t.Errorf("GET %s%s: versions %v, want %v", path, tt.q, got, tt.want)
				}
			}
		}
		if r := e.get("ana", e.objectsPath(e.coll)+"?match[version]=all,first"); r.status != http.StatusBadRequest {
			t.Errorf("match[version]=all,first = %s, want 400", r)
		}
	})
}

func TestT28MatchSpecVersion(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		id := newID("indicator")
		v20 := sdo("indicator", id, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), focal.TLPGreen)
		v20["spec_version"] = "2.0"
		v21 := sdo("indicator", id, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), focal.TLPGreen) // older, but 2.1
		only20 := sdo("malware", newID("malware"), time.Now(), focal.TLPGreen)
		only20["spec_version"] = "2.0"
		only21 := sdo("tool", newID("tool"), time.Now(), focal.TLPGreen)
		e.post("ana", e.coll, v20, v21, only20, only21)
		var man manifestRes
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/manifest/?match[spec_version]=2.0").json(t, &man)
		for _, m := range man.Objects {
			if m.MediaType != "application/stix+json;version=2.0" {
				t.Errorf("match[spec_version]=2.0 listed %+v", m)
			}
		}
		if len(man.Objects) != 2 {
			t.Errorf("match[spec_version]=2.0 gave %d records, want 2", len(man.Objects))
		}
		// No parameter: only the latest spec version of each object.
		man = manifestRes{}
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/manifest/").json(t, &man)
		for _, m := range man.Objects {
			if m.ID == id && m.MediaType != "application/stix+json;version=2.1" {
				t.Errorf("default spec_version listed %+v, want only the 2.1 version of %s", m, id)
			}
		}
		if len(man.Objects) != 3 {
			t.Errorf("default manifest has %d records, want 3", len(man.Objects))
		}
	})
}

func TestT29Manifest(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		id, mods := threeVersions(t, e)
		e.post("ana", e.coll, sdo("malware", newID("malware"), time.Now(), ""))
		var c collectionRes
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/").json(t, &c)
		var man manifestRes
		e.get("ana", taxii.APIRootPath+"collections/"+e.coll+"/manifest/?match[version]=all&match[type]=indicator").json(t, &man)
		if len(man.Objects) != 3 {
			t.Fatalf("manifest has %d records, want 3 (one per version)", len(man.Objects))
		}
		for i, m := range man.Objects {
			if m.ID != id || !timestampRE.MatchString(m.DateAdded) || m.Version != taxii.FormatTimestamp(mods[i]) || !slices.Contains(c.MediaTypes, m.MediaType) {
				t.Errorf("manifest record %+v; want id %s, version %s, media type in %v", m, id, taxii.FormatTimestamp(mods[i]), c.MediaTypes)
			}
		}
	})
}

func TestT30ObjectByID(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		id, mods := threeVersions(t, e)
		p := e.objectsPath(e.coll) + id + "/"
		var env envelopeRes
		e.get("ana", p).json(t, &env)
		if len(env.Objects) != 1 {
			t.Errorf("object by id gave %d objects, want 1 in an envelope", len(env.Objects))
		}
		var all []string
		for _, page := range pages(t, e, "ana", p+"?match[version]=all&", 1) {
			if len(page) != 1 || page[0] != id {
				t.Errorf("page %v", page)
			}
			all = append(all, page...)
		}
		if len(all) != 3 {
			t.Errorf("paging versions of %s gave %d objects, want 3", id, len(all))
		}
		r := e.get("ana", p+"?match[version]=all&limit=1")
		env = envelopeRes{}
		e.get("ana", p+"?match[version]=all&added_after="+r.header.Get("X-TAXII-Date-Added-Last")).json(t, &env)
		if got := modifiedOf(t, env); len(got) != 2 || got[0] != mods[1].Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("added_after on object = %v", got)
		}
		if r := e.get("ana", e.objectsPath(e.coll)+newID("indicator")+"/"); r.status != http.StatusNotFound {
			t.Errorf("unknown object = %s, want 404", r)
		}
	})
}

func TestT31Versions(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		id, mods := threeVersions(t, e)
		p := e.objectsPath(e.coll) + id + "/versions/"
		var vs struct {
			More     bool     `json:"more"`
			Next     string   `json:"next"`
			Versions []string `json:"versions"`
		}
		r := e.get("ana", p)
		r.json(t, &vs)
		want := []string{taxii.FormatTimestamp(mods[0]), taxii.FormatTimestamp(mods[1]), taxii.FormatTimestamp(mods[2])}
		if !slices.Equal(vs.Versions, want) || vs.More {
			t.Errorf("versions = %+v, want %v", vs, want)
		}
		if r.header.Get("X-TAXII-Date-Added-First") == "" {
			t.Error("versions without X-TAXII-Date-Added-First")
		}
		vs.Versions = nil
		e.get("ana", p+"?limit=2").json(t, &vs)
		if len(vs.Versions) != 2 || !vs.More || vs.Next == "" {
			t.Errorf("versions?limit=2 = %+v, want 2 and more with next", vs)
		}
		next := vs.Next
		vs = struct {
			More     bool     `json:"more"`
			Next     string   `json:"next"`
			Versions []string `json:"versions"`
		}{}
		e.get("ana", p+"?limit=2&next="+next).json(t, &vs)
		if !slices.Equal(vs.Versions, want[2:]) || vs.More {
			t.Errorf("versions page 2 = %+v, want %v", vs, want[2:])
		}
		if r := e.get("ana", e.objectsPath(e.coll)+newID("indicator")+"/versions/"); r.status != http.StatusNotFound {
			t.Errorf("versions of an unknown object = %s, want 404", r)
		}
	})
}

func TestT32Delete(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		colls := map[string]string{}
		for _, rw := range []string{"FF", "TF", "FT", "TT"} {
			c := e.collection("delete "+rw, false)
			colls[rw] = c
			if rw != "FF" {
				e.grant("peer3", c, rw[0] == 'T', rw[1] == 'T')
			}
		}
		for _, tt := range []struct {
			rw   string
			want int
		}{{"FF", 404}, {"TF", 403}, {"FT", 403}, {"TT", 200}} {
			id := newID("indicator")
			e.post("ana", colls[tt.rw], sdo("indicator", id, time.Now(), ""))
			r := e.do(call{method: "DELETE", path: e.objectsPath(colls[tt.rw]) + id + "/", user: "peer3"})
			if r.status != tt.want {
				t.Errorf("DELETE with (can_read, can_write) = %s: %s, want %d", tt.rw, r, tt.want)
			}
			if tt.rw == "TT" {
				if r := e.get("peer3", e.objectsPath(colls["TT"])+id+"/"); r.status != http.StatusNotFound {
					t.Errorf("GET after DELETE = %s, want 404", r)
				}
				var man manifestRes
				e.get("peer3", taxii.APIRootPath+"collections/"+colls["TT"]+"/manifest/").json(t, &man)
				for _, m := range man.Objects {
					if m.ID == id {
						t.Errorf("manifest lists deleted %s", id)
					}
				}
			}
		}
		// match[version] deletes only that version.
		id, mods := threeVersions(t, e)
		r := e.do(call{method: "DELETE", path: e.objectsPath(e.coll) + id + "/?match[version]=" + taxii.FormatTimestamp(mods[1]), user: "ana"})
		if r.status != http.StatusOK {
			t.Fatalf("DELETE one version = %s", r)
		}
		var vs struct {
			Versions []string `json:"versions"`
		}
		e.get("ana", e.objectsPath(e.coll)+id+"/versions/").json(t, &vs)
		if want := []string{taxii.FormatTimestamp(mods[0]), taxii.FormatTimestamp(mods[2])}; !slices.Equal(vs.Versions, want) {
			t.Errorf("versions after deleting one = %v, want %v", vs.Versions, want)
		}
		if r := e.do(call{method: "DELETE", path: e.objectsPath(e.coll) + newID("indicator") + "/", user: "ana"}); r.status != http.StatusNotFound {
			t.Errorf("DELETE unknown object = %s, want 404", r)
		}
	})
}

func TestT33ReadWriteAccess(t *testing.T) {
	e := newEnv(t, store.SQLite)
	wo, ro, none := e.collection("write only", false), e.collection("read only", false), e.collection("none", false)
	e.grant("peer3", wo, false, true)
	e.grant("peer3", ro, true, false)
	id := newID("indicator")
	e.post("ana", wo, sdo("indicator", id, time.Now(), ""))
	for _, tt := range []struct {
		coll string
		want int
	}{{wo, 403}, {none, 404}} {
		c := taxii.APIRootPath + "collections/" + tt.coll + "/"
		for _, p := range []string{c + "manifest/", c + "objects/", c + "objects/" + id + "/", c + "objects/" + id + "/versions/"} {
			if r := e.get("peer3", p); r.status != tt.want {
				t.Errorf("GET %s = %s, want %d", p, r, tt.want)
			}
		}
	}
	body := envelope(sdo("indicator", newID("indicator"), time.Now(), ""))
	if r := e.do(call{method: "POST", path: e.objectsPath(ro), user: "peer3", body: body}); r.status != http.StatusForbidden {
		t.Errorf("POST to a read-only collection = %s, want 403", r)
	}
	if r := e.do(call{method: "POST", path: e.objectsPath(wo), user: "peer3", body: body}); r.status != http.StatusAccepted {
		t.Errorf("POST to a writable collection = %s, want 202", r)
	}
	// A handler reads but does not write; a read-only token only reads.
	if r := e.do(call{method: "POST", path: e.objectsPath(e.coll), user: "hal", body: body}); r.status != http.StatusForbidden {
		t.Errorf("POST as a handler = %s, want 403", r)
	}
}

func TestT34UnknownMatch(t *testing.T) {
	e := newEnv(t, store.SQLite)
	seeded(t, e, 2)
	for _, q := range []string{"match[foo]=bar", "match[foo]=a&match[foo]=b", "foo=bar", "match[]=x"} {
		var env envelopeRes
		r := e.get("ana", e.objectsPath(e.coll)+"?"+q)
		if r.status != http.StatusOK {
			t.Errorf("GET objects?%s = %s, want 200", q, r)
			continue
		}
		r.json(t, &env)
		if len(env.Objects) != 2 {
			t.Errorf("GET objects?%s gave %d objects, want 2", q, len(env.Objects))
		}
	}
}

// TestT35Taxii2ClientPatterns replays T20–T31 the way taxii2-client 2.3.0
// asks: its User-Agent and Accept, as_pages (limit, then limit + next,
// lowering per_request to the page size the server returned) and its
// Content-Type check on every response.
func TestT35Taxii2ClientPatterns(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ids := seeded(t, e, 11)
		id, _ := threeVersions(t, e)
		want := append(slices.Clone(ids), id)
		const accept = "application/taxii+json;version=2.1"
		get := func(path string) reply {
			r := e.do(call{path: path, user: "ana", accept: accept, header: map[string]string{"User-Agent": "taxii2-client/2.3.0"}})
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %s", path, r)
			}
			taxii2ClientCheck(t, r, accept)
			noEmptyArrays(t, path, r.body)
			return r
		}
		get(taxii.PathPrefix)
		get(taxii.APIRootPath)
		get(taxii.APIRootPath + "collections/")
		get(taxii.APIRootPath + "collections/" + e.coll + "/")
		asPages := func(path string, perRequest int, key string) []string {
			var out []string
			next := ""
			for i := 0; ; i++ {
				q := "?limit=" + strconv.Itoa(perRequest)
				if next != "" {
					q += "&next=" + next
				}
				var page map[string]json.RawMessage
				get(path+q).json(t, &page)
				var items []json.RawMessage
				if raw, ok := page[key]; ok {
					if err := json.Unmarshal(raw, &items); err != nil {
						t.Fatal(err)
					}
				}
				for _, it := range items {
					var o struct {
						ID string `json:"id"`
					}
					if json.Unmarshal(it, &o) == nil && o.ID != "" {
						out = append(out, o.ID)
					} else {
						out = append(out, string(it))
					}
				}
				var more bool
				_ = json.Unmarshal(page["more"], &more)
				if !more {
					return out
				}
				if err := json.Unmarshal(page["next"], &next); err != nil || next == "" {
					t.Fatalf("more without next at %s", path)
				}
				if len(items) < perRequest {
					perRequest = len(items)
				}
				if i > 100 {
					t.Fatal("as_pages does not end")
				}
			}
		}
		c := taxii.APIRootPath + "collections/" + e.coll + "/"
		for _, per := range []int{1, 5, 100} {
			if got := asPages(c+"objects/", per, "objects"); !slices.Equal(got, want) {
				t.Errorf("as_pages(get_objects, per_request=%d) = %v, want %v", per, got, want)
			}
			if got := asPages(c+"manifest/", per, "objects"); !slices.Equal(got, want) {
				t.Errorf("as_pages(get_manifest, per_request=%d) = %v, want %v", per, got, want)
			}
			if got := asPages(c+"objects/"+id+"/versions/", per, "versions"); len(got) != 3 {
				t.Errorf("as_pages(object_versions, per_request=%d) = %v, want 3 versions", per, got)
			}
		}
		get(c + "objects/" + id + "/")
	})
}
