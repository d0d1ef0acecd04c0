package taxii

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// handler serves the endpoints of one API root.
type handler struct {
	*Server
	root root
}

// The TAXII resources (§4, §5). Lists are omitempty: TAXII forbids empty
// lists.
type (
	discoveryResource struct {
		Title       string   `json:"title"`
		Description string   `json:"description,omitempty"`
		Contact     string   `json:"contact,omitempty"`
		Default     string   `json:"default,omitempty"`
		APIRoots    []string `json:"api_roots,omitempty"`
	}
	apiRootResource struct {
		Title            string   `json:"title"`
		Description      string   `json:"description,omitempty"`
		Versions         []string `json:"versions"`
		MaxContentLength int64    `json:"max_content_length"`
	}
	collectionResource struct {
		ID          string   `json:"id"`
		Title       string   `json:"title"`
		Description string   `json:"description,omitempty"`
		Alias       string   `json:"alias,omitempty"`
		CanRead     bool     `json:"can_read"`
		CanWrite    bool     `json:"can_write"`
		MediaTypes  []string `json:"media_types,omitempty"`
	}
	collectionsResource struct {
		Collections []collectionResource `json:"collections,omitempty"`
	}
	manifestRecord struct {
		ID        string `json:"id"`
		DateAdded string `json:"date_added"`
		Version   string `json:"version"`
		MediaType string `json:"media_type,omitempty"`
	}
	manifestResource struct {
		More    *bool            `json:"more,omitempty"`
		Next    string           `json:"next,omitempty"`
		Objects []manifestRecord `json:"objects,omitempty"`
	}
	versionsResource struct {
		More     *bool    `json:"more,omitempty"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}
	statusResource struct {
		ID               string                    `json:"id"`
		Status           string                    `json:"status"`
		RequestTimestamp string                    `json:"request_timestamp,omitempty"`
		TotalCount       int                       `json:"total_count"`
		SuccessCount     int                       `json:"success_count"`
		Successes        []store.TaxiiStatusDetail `json:"successes,omitempty"`
		FailureCount     int                       `json:"failure_count"`
		Failures         []store.TaxiiStatusDetail `json:"failures,omitempty"`
		PendingCount     int                       `json:"pending_count"`
		Pendings         []store.TaxiiStatusDetail `json:"pendings,omitempty"`
	}
)

// discovery serves E1, GET /taxii2/.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, discoveryResource{
		Title: s.cfg.Title, Description: s.cfg.Description, Contact: s.cfg.Contact,
		Default: APIRootPath, APIRoots: []string{APIRootPath, PublicRootPath},
	})
}

// apiRoot serves E2.
func (h *handler) apiRoot(w http.ResponseWriter, r *http.Request) {
	desc := "Collections shared through focal's sharing groups."
	if h.root.public {
		desc = "Public collections: TLP:CLEAR objects only, read-only, no account needed."
	}
	writeJSON(w, http.StatusOK, apiRootResource{Title: h.root.title, Description: desc, Versions: []string{MediaType}, MaxContentLength: h.cfg.MaxContentLength})
}

// status serves E3.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	st, err := h.cfg.Store.TaxiiStatus(r.Context(), r.PathValue("status"))
	if err != nil {
		h.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusOf(st))
}

func statusOf(st *store.TaxiiStatus) statusResource {
	state := "complete"
	if st.Pending > 0 {
		state = "pending"
	}
	return statusResource{
		ID: st.ID, Status: state, RequestTimestamp: FormatTimestamp(st.RequestTimestamp),
		TotalCount: st.Total, SuccessCount: st.Success, Successes: st.Successes,
		FailureCount: st.Failure, Failures: st.Failures, PendingCount: st.Pending, Pendings: st.Pendings,
	}
}

func collectionOf(c *store.TaxiiCollection) collectionResource {
	return collectionResource{ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: c.CanRead, CanWrite: c.CanWrite, MediaTypes: []string{STIXMediaType, stix20Media}}
}

// collections serves E4. No collections is {}.
func (h *handler) collections(w http.ResponseWriter, r *http.Request) {
	cs, err := h.cfg.Store.TaxiiCollections(r.Context(), h.root.public)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	var res collectionsResource
	for _, c := range cs {
		res.Collections = append(res.Collections, collectionOf(c))
	}
	writeJSON(w, http.StatusOK, res)
}

// collection serves E5.
func (h *handler) collection(w http.ResponseWriter, r *http.Request) {
	c, err := h.cfg.Store.TaxiiCollection(r.Context(), h.root.public, r.PathValue("id"))
	if err != nil {
		h.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, collectionOf(c))
}

// endpoint names the listing endpoints in cursors.
const (
	epManifest = "manifest"
	epObjects  = "objects"
	epObject   = "object"
	epVersions = "versions"
)

// page runs a listing: it parses the query, checks the cursor, and asks
// the store for one page of the selection f (filled from the query
// according to the endpoint). It returns the records, whether more follow
// and the next cursor.
func (h *handler) page(r *http.Request, endpoint, object string, bodies bool) ([]store.TaxiiRecord, bool, string, error) {
	q, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, false, "", err
	}
	f := store.TaxiiFilter{ObjectID: object, SpecVersions: q.SpecVersions, AddedAfter: q.AddedAfter, HasAddedAfter: q.HasAddedAfter}
	switch endpoint {
	case epManifest, epObjects:
		f.IDs, f.Types = q.IDs, q.Types
		f.Versions = versionMatch(q.Versions, store.TaxiiVersionMatch{Last: true})
	case epObject:
		f.Versions = versionMatch(q.Versions, store.TaxiiVersionMatch{Last: true})
		q.IDs, q.Types = nil, nil
	case epVersions:
		f.Versions = store.TaxiiVersionMatch{All: true}
		q.IDs, q.Types, q.Versions = nil, nil, nil
	}
	collection := r.PathValue("id")
	hash := filterHash(endpoint, h.root.path, collection, object, q)
	if q.Next != "" {
		if f.AfterDate, f.AfterSeq, err = h.cursors.decode(q.Next, hash); err != nil {
			return nil, false, "", err
		}
		f.After = true
	}
	f.Limit = h.cfg.PageSize
	if q.Limit > 0 && q.Limit < f.Limit {
		f.Limit = q.Limit
	}
	recs, more, err := h.cfg.Store.TaxiiObjects(r.Context(), h.root.public, collection, f, bodies)
	if err != nil {
		return nil, false, "", err
	}
	if object != "" && len(recs) == 0 && q.Next == "" {
		ok, err := h.cfg.Store.TaxiiObjectExists(r.Context(), h.root.public, collection, object)
		if err != nil {
			return nil, false, "", err
		}
		if !ok {
			return nil, false, "", focal.Errorf(focal.ENOTFOUND, "object %s not found", object)
		}
	}
	next := ""
	if more {
		last := recs[len(recs)-1]
		next = h.cursors.encode(last.DateAdded, last.Seq, hash)
	}
	return recs, more, next, nil
}

// dateHeaders sets X-TAXII-Date-Added-First/Last for a non-empty result;
// an empty result carries neither (as medallion does; see docs/taxii.md).
func dateHeaders(w http.ResponseWriter, recs []store.TaxiiRecord) {
	if len(recs) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", formatMicros(recs[0].DateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", formatMicros(recs[len(recs)-1].DateAdded))
}

// manifest serves E6.
func (h *handler) manifest(w http.ResponseWriter, r *http.Request) {
	recs, more, next, err := h.page(r, epManifest, "", false)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	var res manifestResource
	if len(recs) > 0 {
		res.More, res.Next = &more, next
	}
	for _, rec := range recs {
		res.Objects = append(res.Objects, manifestRecord{ID: rec.ID, DateAdded: formatMicros(rec.DateAdded),
			Version: formatMicros(rec.Version), MediaType: "application/stix+json;version=" + rec.SpecVersion})
	}
	dateHeaders(w, recs)
	writeJSON(w, http.StatusOK, res)
}

// objects serves E7.
func (h *handler) objects(w http.ResponseWriter, r *http.Request) {
	recs, more, next, err := h.page(r, epObjects, "", true)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	h.writeEnvelope(w, recs, more, next)
}

// object serves E9.
func (h *handler) object(w http.ResponseWriter, r *http.Request) {
	recs, more, next, err := h.page(r, epObject, r.PathValue("object"), true)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	h.writeEnvelope(w, recs, more, next)
}

// writeEnvelope writes an envelope of the stored object bodies as they
// are, without decoding them: {"more":…,"next":…,"objects":[…]}, or {}
// when empty.
func (h *handler) writeEnvelope(w http.ResponseWriter, recs []store.TaxiiRecord, more bool, next string) {
	if len(recs) == 0 {
		writeBody(w, http.StatusOK, []byte("{}"))
		return
	}
	size := 64 + len(next)
	for _, rec := range recs {
		size += len(rec.Body) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"more":`...)
	b = strconv.AppendBool(b, more)
	if next != "" {
		b = append(b, `,"next":`...)
		b = strconv.AppendQuote(b, next) // base64url: nothing to escape
	}
	b = append(b, `,"objects":[`...)
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, rec.Body...)
	}
	b = append(b, "]}"...)
	dateHeaders(w, recs)
	writeBody(w, http.StatusOK, b)
}

// versions serves E11.
func (h *handler) versions(w http.ResponseWriter, r *http.Request) {
	recs, more, next, err := h.page(r, epVersions, r.PathValue("object"), false)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	var res versionsResource
	if len(recs) > 0 {
		res.More, res.Next = &more, next
	}
	for _, rec := range recs {
		res.Versions = append(res.Versions, formatMicros(rec.Version))
	}
	dateHeaders(w, recs)
	writeJSON(w, http.StatusOK, res)
}

// deleteObject serves E10: it deletes the versions match[version] and
// match[spec_version] select (every version by default).
func (h *handler) deleteObject(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	f := store.TaxiiFilter{ObjectID: r.PathValue("object"), SpecVersions: q.SpecVersions, AnySpecVersion: len(q.SpecVersions) == 0,
		Versions: versionMatch(q.Versions, store.TaxiiVersionMatch{All: true})}
	if _, err := h.cfg.Store.DeleteTaxiiObjects(r.Context(), r.PathValue("id"), f); err != nil {
		h.Error(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, []byte("{}"))
}

// envelopeIn is a POSTed envelope.
type envelopeIn struct {
	Objects []json.RawMessage `json:"objects"`
}

// addObjects serves E8: it checks the content type (415) and size (413),
// decodes the envelope (400 if it is not one), checks every object's
// header, stores the valid ones in one transaction and answers 202 with a
// status resource listing successes (duplicates included) and failures.
// When no object is valid the whole envelope is unprocessable: 422.
func (h *handler) addObjects(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	started := time.Now()
	if !taxiiContentType(r.Header.Get("Content-Type")) {
		h.Error(w, r, errStatus(http.StatusUnsupportedMediaType, "send the envelope as %s", MediaType))
		return
	}
	c, err := h.cfg.Store.TaxiiCollection(ctx, false, r.PathValue("id"))
	if err != nil {
		h.Error(w, r, err)
		return
	}
	if !c.CanWrite {
		h.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "you may not write to this collection"))
		return
	}
	if r.ContentLength > h.cfg.MaxContentLength {
		h.Error(w, r, focal.Errorf(focal.ETOOLARGE, "the body is over max_content_length (%d bytes)", h.cfg.MaxContentLength))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxContentLength+1))
	if err != nil {
		h.Error(w, r, err)
		return
	}
	if int64(len(body)) > h.cfg.MaxContentLength {
		h.Error(w, r, focal.Errorf(focal.ETOOLARGE, "the body is over max_content_length (%d bytes)", h.cfg.MaxContentLength))
		return
	}
	var env envelopeIn
	if err := json.Unmarshal(body, &env); err != nil {
		h.Error(w, r, focal.Errorf(focal.EINVALID, "the body is not a TAXII envelope: %s", jsonProblem(err)))
		return
	}
	st := &store.TaxiiStatus{RequestTimestamp: started, Total: len(env.Objects)}
	objs := make([]store.TaxiiObject, 0, len(env.Objects))
	for i, raw := range env.Objects {
		hd, err := DecodeHeader(raw)
		var compact []byte
		if err == nil {
			compact, err = compactObject(raw)
		}
		if err != nil {
			id := hd.ID
			if id == "" {
				id = "objects[" + strconv.Itoa(i) + "]"
			}
			st.Failures = append(st.Failures, store.TaxiiStatusDetail{ID: truncate(id, 300), Version: versionString(hd), Message: focal.ErrorMessage(err)})
			continue
		}
		objs = append(objs, store.TaxiiObject{ID: hd.ID, Type: hd.Type, SpecVersion: hd.SpecVersion, Version: hd.Version,
			TLP: hd.TLP, OrgID: hd.OrgID, Body: compact})
	}
	st.Failure = len(st.Failures)
	if len(objs) == 0 && len(env.Objects) > 0 {
		h.Error(w, r, &statusError{status: http.StatusUnprocessableEntity, message: "no object of the envelope can be stored", details: map[string]any{"failures": st.Failures}})
		return
	}
	st.CollectionID = c.ID
	if len(objs) > 0 {
		added, err := h.cfg.Store.AddTaxiiObjects(ctx, c.ID, objs)
		if err != nil {
			h.Error(w, r, err)
			return
		}
		if h.cfg.Changed != nil && slices.ContainsFunc(added, func(a store.TaxiiAdded) bool { return !a.Duplicate }) {
			h.cfg.Changed(c.ID)
		}
	}
	for _, o := range objs {
		st.Successes = append(st.Successes, store.TaxiiStatusDetail{ID: o.ID, Version: formatMicros(o.Version)})
	}
	st.Success = len(st.Successes)
	if err := h.cfg.Store.CreateTaxiiStatus(ctx, st); err != nil {
		h.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, statusOf(st))
}

// versionString is a header's version for a status entry, "" if unknown.
func versionString(hd Header) string {
	if hd.Version == 0 {
		return ""
	}
	return formatMicros(hd.Version)
}
