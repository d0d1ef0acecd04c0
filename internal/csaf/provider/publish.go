package provider

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// securityTxt serves the team's RFC 9116 security.txt, clear-signed with
// the team key when there is one.
func (p *Provider) securityTxt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	base := p.base(r)
	var contacts []string
	prof, err := p.cfg.Store.TeamProfile(ctx)
	switch {
	case err == nil:
		if prof.Email != "" {
			contacts = append(contacts, "mailto:"+prof.Email)
		}
		if prof.Phone != "" {
			contacts = append(contacts, "tel:"+strings.ReplaceAll(prof.Phone, " ", ""))
		}
		if prof.Website != "" {
			contacts = append(contacts, prof.Website)
		}
	case focal.ErrorCode(err) != focal.ENOTFOUND:
		p.Error(w, r, err)
		return
	}
	if len(contacts) == 0 && strings.HasPrefix(p.cfg.Publisher.ContactDetails, "mailto:") {
		contacts = append(contacts, p.cfg.Publisher.ContactDetails)
	}
	if len(contacts) == 0 {
		p.Error(w, r, focal.Errorf(focal.ENOTFOUND, "the team has no contact yet: a coordinator sets the team profile"))
		return
	}
	var b bytes.Buffer
	b.WriteString("# Security contact of " + oneLine(p.publisher(ctx).Name) + " (RFC 9116)\n")
	for _, c := range contacts {
		b.WriteString("Contact: " + oneLine(c) + "\n")
	}
	expires := time.Now().UTC().Add(p.cfg.SecurityTxt.Lifetime).Truncate(24 * time.Hour)
	b.WriteString("Expires: " + expires.Format(time.RFC3339) + "\n")
	if p.cfg.Signer != nil {
		b.WriteString("Encryption: " + base + PathPrefix + "openpgp/" + p.cfg.Signer.Fingerprint() + ".asc\n")
	}
	policy := p.cfg.SecurityTxt.Policy
	if policy == "" {
		policy = base + "/rfc2350"
	}
	b.WriteString("Policy: " + oneLine(policy) + "\n")
	b.WriteString("Preferred-Languages: " + oneLine(p.cfg.SecurityTxt.Languages) + "\n")
	b.WriteString("Canonical: " + base + "/.well-known/security.txt\n")
	b.WriteString("CSAF: " + base + PathPrefix + "provider-metadata.json\n")
	out := b.Bytes()
	if p.cfg.Signer != nil {
		if out, err = p.cfg.Signer.ClearSign(out); err != nil {
			p.Error(w, r, err)
			return
		}
	}
	writeBytes(w, "text/plain; charset=utf-8", out)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// approve publishes the advisory of the request's {id} as the caller.
func (p *Provider) approve(r *http.Request) (*store.PublishedDocument, int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, focal.Errorf(focal.ENOTFOUND, "advisory not found")
	}
	d, err := p.cfg.Store.ApproveAdvisory(r.Context(), id, p.PublishOptions(r.Context(), p.base(r)))
	return d, id, err
}

// approveAPI is POST /api/v1/advisories/{id}/approve: it publishes and
// answers with the published document's place and hashes.
func (p *Provider) approveAPI(w http.ResponseWriter, r *http.Request) {
	d, _, err := p.approve(r)
	if err != nil {
		p.apiError(w, r, err)
		return
	}
	base := p.base(r)
	writeJSON(w, map[string]any{
		"advisory_id": d.AdvisoryID, "tracking_id": d.TrackingID, "version": d.Version, "tlp": strings.ToUpper(d.Label),
		"url": base + PathPrefix + d.Path(), "sha256": d.SHA256, "sha512": d.SHA512,
		"current_release_date": d.CurrentRelease.Format(time.RFC3339),
	})
}

func (p *Provider) apiError(w http.ResponseWriter, r *http.Request, err error) {
	server.Error(w, r, p.cfg.Logger, err)
}

// approveForm is the UI's approve button: it publishes and goes back to
// the advisory's page (with the reason when it was refused).
func (p *Provider) approveForm(w http.ResponseWriter, r *http.Request) {
	_, id, err := p.approve(r)
	switch focal.ErrorCode(err) {
	case "":
	case focal.EINVALID, focal.ECONFLICT, focal.EFORBIDDEN, focal.EUNAVAILABLE:
		// Refused by the workflow (not the second person, invalid, no
		// key): back to the advisory, which shows why.
		http.Redirect(w, r, "/advisories/"+strconv.FormatInt(id, 10)+"?error="+url.QueryEscape(focal.ErrorMessage(err)), http.StatusSeeOther)
		return
	default:
		p.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/advisories/"+strconv.FormatInt(id, 10)+"?published=1", http.StatusSeeOther)
}

// message builds the e-mail telling an organisation about an advisory
// that concerns it: plain text, with the summary, the products and the
// links to the advisory and its CSAF document. The notifier delivers it.
func (p *Provider) message(base string, o *focal.Organisation, to []string, a *store.Advisory, d *store.PublishedDocument) (*store.Notification, error) {
	b := a.Body
	ref := fmt.Sprintf("advisory-%d-v%s-org-%d", a.ID, d.Version, o.ID)
	subject := fmt.Sprintf("[%s] [%s] %s", d.TrackingID, b.TLP.String(), b.Title)
	var body strings.Builder
	fmt.Fprintf(&body, "%s\n\nDear %s,\n\n", b.TLP.String(), o.Name)
	if a.Version > 1 {
		fmt.Fprintf(&body, "We have corrected advisory %s (version %s).\n\n", d.TrackingID, d.Version)
	} else {
		fmt.Fprintf(&body, "We have published advisory %s, which concerns products your organisation uses.\n\n", d.TrackingID)
	}
	fmt.Fprintf(&body, "%s\nSeverity: %s\n\n%s\n\nAffected products:\n", b.Title, b.Severity, b.Summary)
	for _, pr := range b.Products {
		fmt.Fprintf(&body, "  - %s\n", pr.FullName())
	}
	if d.Label == "white" {
		fmt.Fprintf(&body, "\nAdvisory: %s/warnings/%s\n", base, strings.TrimSuffix(d.Filename, ".json"))
	}
	fmt.Fprintf(&body, "CSAF document: %s%s%s\n\nThis message follows %s.\n", base, PathPrefix, d.Path(), b.TLP.String())
	var raw bytes.Buffer
	h := func(k, v string) { raw.WriteString(k + ": " + v + "\r\n") }
	h("From", p.cfg.MailFrom)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+ref+"@focal>")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	raw.WriteString("\r\n")
	raw.WriteString(strings.ReplaceAll(body.String(), "\n", "\r\n"))
	envelope := p.cfg.MailFrom
	if addr, err := mail.ParseAddress(envelope); err == nil {
		envelope = addr.Address
	}
	return &store.Notification{Reference: ref, From: envelope, Recipients: to, Subject: subject, Raw: raw.Bytes()}, nil
}
