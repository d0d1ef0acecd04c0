package ui

import (
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/observable"
	"focal/internal/store"
)

// sharingPage is the data of the sharing page: the collections this node
// serves, the sharing groups with their members and grants, and the
// forms of those who may change them.
type sharingPage struct {
	base
	Collections []*store.TaxiiCollection
	Groups      []*store.SharingGroup
	Peers       []*focal.User // peer accounts, for the member form
	Orgs        []orgOption
	MayManage   bool
	MayPublish  bool
	Error       string
}

// sharing serves GET /sharing.
func (h *handlers) sharing(w http.ResponseWriter, r *http.Request) {
	h.renderSharing(w, r, http.StatusOK, "")
}

func (h *handlers) renderSharing(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	page := sharingPage{base: h.base(r, "Sharing"), Error: msg,
		MayManage:  may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindSharing}),
		MayPublish: h.publisher != nil && may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindCollection}),
	}
	var err error
	if page.Collections, err = h.store.TaxiiCollections(ctx, false); err != nil {
		h.error(w, r, err)
		return
	}
	groups, err := h.store.SharingGroups(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, g := range groups {
		full, err := h.store.SharingGroup(ctx, g.ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Groups = append(page.Groups, full)
	}
	if page.MayManage {
		users, err := h.store.Users(ctx)
		if err != nil {
			h.error(w, r, err)
			return
		}
		for _, u := range users {
			if u.Role == focal.RolePeer {
				page.Peers = append(page.Peers, u)
			}
		}
		if page.Orgs, _, err = h.orgNames(ctx); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, status, "sharing", page)
}

// sharingPost runs one of the sharing page's forms, then shows the page
// again: with a notice, or with the refusal.
func (h *handlers) sharingPost(do func(r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := parseForm(r); err != nil {
			h.error(w, r, err)
			return
		}
		if err := do(r); err != nil {
			if c := focal.ErrorCode(err); c != focal.EINVALID && c != focal.ECONFLICT {
				h.error(w, r, err)
				return
			}
			h.renderSharing(w, r, http.StatusBadRequest, focal.ErrorMessage(err))
			return
		}
		redirect(w, r, withNotice("/sharing", "saved"))
	}
}

func (h *handlers) collectionCreate(r *http.Request) error {
	v := r.PostForm
	return h.store.CreateTaxiiCollection(r.Context(), &store.TaxiiCollection{
		Title: v.Get("title"), Alias: v.Get("alias"), Description: v.Get("description"), Public: v.Get("public") != ""})
}

func (h *handlers) groupCreate(r *http.Request) error {
	v := r.PostForm
	return h.store.CreateSharingGroup(r.Context(), &store.SharingGroup{Name: v.Get("name"), Description: v.Get("description"), Ceiling: focal.TLP(v.Get("ceiling"))})
}

func (h *handlers) groupMemberAdd(r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var m store.SharingMember
	kind, value, _ := strings.Cut(r.PostForm.Get("member"), ":")
	n, perr := strconv.ParseInt(value, 10, 64)
	switch {
	case perr != nil || n <= 0:
		return focal.FieldErrorf("member", "choose a peer or an organisation")
	case kind == "user":
		m.UserID = n
	case kind == "org":
		m.OrgID = n
	default:
		return focal.FieldErrorf("member", "choose a peer or an organisation")
	}
	return h.store.AddSharingMember(r.Context(), id, m)
}

func (h *handlers) groupGrant(r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v := r.PostForm
	return h.store.GrantSharingCollection(r.Context(), id, store.SharingGrant{CollectionID: v.Get("collection"), CanRead: v.Get("can_read") != "", CanWrite: v.Get("can_write") != ""})
}

// publishPage is the share form: indicators found in pasted text, the
// label, the collection, and who would receive them.
type publishPage struct {
	base
	Collections []*store.TaxiiCollection
	Collection  string
	TLP         string
	TLPs        []focal.TLP
	Orgs        []orgOption
	OrgID       int64
	Text        string
	Found       []focal.Observable
	Recipients  []store.RecipientPreview
	Previewed   bool
	Error       string
	Published   int
}

// publishForm serves GET and POST /sharing/publish: paste text, preview
// the indicators found and who would receive them (action=preview), then
// share them (action=publish).
func (h *handlers) publishForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := publishPage{base: h.base(r, "Share indicators"), TLP: string(focal.TLPAmber),
		TLPs: []focal.TLP{focal.TLPClear, focal.TLPGreen, focal.TLPAmber, focal.TLPAmberStrict}}
	var err error
	if page.Collections, err = h.store.TaxiiCollections(ctx, false); err != nil {
		h.error(w, r, err)
		return
	}
	if page.Orgs, _, err = h.orgNames(ctx); err != nil {
		h.error(w, r, err)
		return
	}
	if r.Method != http.MethodPost {
		h.render(w, r, http.StatusOK, "publish", page)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	v := r.PostForm
	page.Collection, page.TLP, page.Text = v.Get("collection"), v.Get("tlp"), v.Get("text")
	page.OrgID, _ = strconv.ParseInt(v.Get("org"), 10, 64)
	status := http.StatusOK
	fail := func(err error) {
		if c := focal.ErrorCode(err); c != focal.EINVALID && c != focal.ENOTFOUND && c != focal.EFORBIDDEN {
			h.error(w, r, err)
			return
		}
		page.Error, status = focal.ErrorMessage(err), http.StatusBadRequest
		h.render(w, r, status, "publish", page)
	}
	tlp, err := focal.ParseTLP(page.TLP)
	if err != nil || tlp == focal.TLPRed {
		fail(focal.FieldErrorf("tlp", "choose CLEAR, GREEN, AMBER or AMBER+STRICT: TLP:RED never leaves this node"))
		return
	}
	for _, o := range observable.Extract(page.Text).Observables {
		page.Found = append(page.Found, focal.Observable{Kind: string(o.Kind), Value: o.Value, TLP: tlp, Source: "manual"})
	}
	if len(page.Found) == 0 {
		fail(focal.FieldErrorf("text", "no address, domain, URL, e-mail address or hash found in the text"))
		return
	}
	if page.Recipients, err = h.store.Recipients(ctx, page.Collection, tlp, page.OrgID); err != nil {
		fail(err)
		return
	}
	page.Previewed = true
	if v.Get("action") == "publish" {
		if h.publisher == nil {
			fail(focal.Errorf(focal.EUNAVAILABLE, "publishing is not configured"))
			return
		}
		res, err := h.publisher.Indicators(ctx, page.Collection, page.Found, page.OrgID)
		if err != nil {
			fail(err)
			return
		}
		page.Published = res.Added
	}
	h.render(w, r, status, "publish", page)
}
