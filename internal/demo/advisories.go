package demo

import (
	"context"
	"fmt"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
)

// demoAdvisories are the advisories the demo publishes: public warnings
// and one TLP:AMBER advisory for the network operators that run the
// product (Example Telecom declares it).
var demoAdvisories = []csaf.Advisory{
	{
		Title:   "Remote code execution in Example Networks EdgeRouter firmware",
		Summary: "EdgeRouter firmware before 4.2.1 lets an unauthenticated attacker on the network run code through the web management interface. Update to 4.2.1 and do not expose the management interface to the Internet.",
		TLP:     focal.TLPClear,
		Products: []csaf.Product{
			{Vendor: "Example Networks", Name: "EdgeRouter", Version: "4.2.0"},
			{Vendor: "Example Networks", Name: "EdgeRouter", Version: "4.2.1"},
		},
		Vulnerabilities: []csaf.Vulnerability{{
			CVE: "CVE-2026-31001", Description: "A stack-based buffer overflow in the login handler of the web management interface.",
			CWE: "CWE-121", CWEName: "Stack-based Buffer Overflow", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Affected: []string{"CSAFPID-0001"}, Fixed: []string{"CSAFPID-0002"},
			Remediations: []csaf.Remediation{
				{Category: "vendor_fix", Details: "Update the firmware to 4.2.1.", URL: "https://example-networks.example/security"},
				{Category: "workaround", Details: "Restrict the management interface to an internal network."},
			},
		}},
		References: []csaf.Reference{{URL: "https://example-networks.example/security/ENSA-2026-04", Summary: "Vendor advisory ENSA-2026-04"}},
	},
	{
		Title:   "Cross-site scripting in Exemple Webmail",
		Summary: "Exemple Webmail 3.x before 3.9.2 lets an attacker run script in a user's session with a crafted message. Update to 3.9.2.",
		TLP:     focal.TLPClear,
		Products: []csaf.Product{
			{Vendor: "Exemple Logiciels", Name: "Exemple Webmail", Version: "3.9.1"},
			{Vendor: "Exemple Logiciels", Name: "Exemple Webmail", Version: "3.9.2"},
		},
		Vulnerabilities: []csaf.Vulnerability{{
			CVE: "CVE-2026-31002", Description: "Message subjects are not escaped in the message list.",
			CWE: "CWE-79", CWEName: "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
			CVSS:     "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
			Affected: []string{"CSAFPID-0001"}, Fixed: []string{"CSAFPID-0002"},
			Remediations: []csaf.Remediation{{Category: "vendor_fix", Details: "Update to 3.9.2."}},
		}},
	},
	{
		Title:   "Exploited authentication bypass in Example Networks CoreSwitch",
		Summary: "An authentication bypass in CoreSwitch 7.x is being exploited against operators in the region. Apply the mitigation now; a fixed release is expected.",
		TLP:     focal.TLPAmber,
		Products: []csaf.Product{
			{Vendor: "Example Networks", Name: "CoreSwitch", Version: "7.1"},
		},
		Vulnerabilities: []csaf.Vulnerability{{
			Title: "CoreSwitch authentication bypass", Description: "A crafted header skips authentication on the management API.",
			CWE: "CWE-288", CWEName: "Authentication Bypass Using an Alternate Path or Channel",
			CVSS:         "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
			Affected:     []string{"CSAFPID-0001"},
			Remediations: []csaf.Remediation{{Category: "mitigation", Details: "Block the management API (TCP 8443) at the network edge."}},
		}},
	},
}

// SeedAdvisories publishes the demo advisories: the handler "handler"
// writes them and the analyst "analyst" approves (two people, as the
// store requires), signed with opts.Signer. Example Telecom declares the
// Example Networks products it runs, so it is told of the AMBER one. It
// expects the accounts and organisations Seed creates.
func SeedAdvisories(ctx context.Context, st *store.Store, opts store.PublishOptions) error {
	sys := focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.System()), "demo")
	users, err := st.Users(sys)
	if err != nil {
		return fmt.Errorf("demo advisories: %w", err)
	}
	var author, approver *focal.User
	for _, u := range users {
		switch u.Name {
		case "handler":
			author = u
		case "analyst":
			approver = u
		}
	}
	if author == nil || approver == nil {
		return fmt.Errorf("demo advisories: the demo accounts handler and analyst are missing")
	}
	orgs, err := st.Constituency(sys)
	if err != nil {
		return fmt.Errorf("demo advisories: %w", err)
	}
	for _, o := range orgs {
		if o.Name == "Example Telecom" {
			if err := st.SetOrgProducts(sys, o.ID, []store.ProductDeclaration{{Vendor: "Example Networks", Product: "*"}}); err != nil {
				return fmt.Errorf("demo advisories: %w", err)
			}
		}
	}
	write := focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, author.Principal()), "demo")
	approve := focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, approver.Principal()), "demo")
	start := time.Now().UTC().Add(-time.Duration(len(demoAdvisories)) * 24 * time.Hour).Truncate(time.Second)
	for i, body := range demoAdvisories {
		a := &store.Advisory{Body: body}
		if err := st.CreateAdvisory(write, a); err != nil {
			return fmt.Errorf("demo advisory %q: %w", body.Title, err)
		}
		if _, err := st.SubmitAdvisory(write, a.ID); err != nil {
			return fmt.Errorf("demo advisory %q: %w", body.Title, err)
		}
		o := opts
		o.Now = start.Add(time.Duration(i) * 24 * time.Hour)
		if _, err := st.ApproveAdvisory(approve, a.ID, o); err != nil {
			return fmt.Errorf("demo advisory %q: %w", body.Title, err)
		}
	}
	return nil
}

// TeamKey returns the team key for the demo: the one in dataDir/keys
// (or teamKey) when there is one, else a new one it creates there, so
// the demo's provider is signed from the first start.
func TeamKey(teamKey, dataDir, name, email, passphrase string) (*csaf.Signer, error) {
	s, err := csaf.LoadTeamKey(teamKey, dataDir, passphrase)
	if err != nil || s != nil {
		return s, err
	}
	priv, pub, _, err := csaf.GenerateKey(name, email, passphrase, 2*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if _, err := csaf.WriteTeamKey(dataDir, priv, pub, false); err != nil {
		return nil, err
	}
	return csaf.NewSigner(string(priv), passphrase)
}
