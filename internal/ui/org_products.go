package ui

import (
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// productsSection is the organisation page's list of the products it
// declared (advisories about them reach it), with the form of those who
// keep its contacts.
type productsSection struct {
	Shown    bool
	MayEdit  bool
	Products []store.ProductDeclaration
	Text     string // the form as typed, one "vendor / product" per line
	Error    string
}

// productsSectionFor builds the products part of organisation id's page.
func (h *handlers) productsSectionFor(r *http.Request, id int64) (productsSection, error) {
	sec := productsSection{MayEdit: may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: id})}
	if !may(r, focal.ActionRead, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: id}) {
		return sec, nil
	}
	ps, err := h.store.OrgProducts(r.Context(), id)
	if err != nil {
		return sec, err
	}
	sec.Shown, sec.Products = true, ps
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.Vendor+" / "+p.Product)
	}
	sec.Text = strings.Join(lines, "\n")
	return sec, nil
}

// parseProducts reads "vendor / product" lines ("*" for every product of
// a vendor).
func parseProducts(text string) ([]store.ProductDeclaration, error) {
	var out []store.ProductDeclaration
	for _, l := range lines(text) {
		vendor, product, ok := strings.Cut(l.text, "/")
		if !ok {
			return nil, focal.FieldErrorf("products", "line %d: write the vendor, a slash and the product, such as \"Example Corp / Router OS\" (or \"Example Corp / *\")", l.n)
		}
		out = append(out, store.ProductDeclaration{Vendor: strings.TrimSpace(vendor), Product: strings.TrimSpace(product)})
	}
	return out, nil
}

// orgProductsUpdate serves POST /organisations/{id}/products: the
// products the organisation runs, so that advisories about them reach it.
func (h *handlers) orgProductsUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := h.ownContactsID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	text := r.PostForm.Get("products")
	ps, err := parseProducts(text)
	if err == nil {
		err = h.store.SetOrgProducts(r.Context(), id, ps)
	}
	if err != nil {
		if focal.ErrorCode(err) != focal.EINVALID {
			h.error(w, r, err)
			return
		}
		h.orgDetailWithProducts(w, r, id, &productsSection{Text: text, Error: focal.ErrorMessage(err)})
		return
	}
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(id, 10), "saved")+"#products")
}
