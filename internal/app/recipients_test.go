package app_test

import (
	"context"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"focal/internal/app"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/notify"
)

// TestEventRecipients checks the "who will receive this" preview: the
// organisations an event concerns, why, and what each policy decides.
func TestEventRecipients(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	isp := &focal.Organisation{Name: "Alpha ISP", Sector: "isp", Country: "FR", ASNs: []uint32{64500},
		Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Contacts: []focal.Contact{{Email: "abuse@alpha.example", Role: "abuse"}}}
	bank := &focal.Organisation{Name: "Bravo Bank", Sector: "banking", Country: "FR",
		Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.128/25")}, Contacts: []focal.Contact{{Email: "soc@bravo.example", Role: "abuse"}}}
	for _, o := range []*focal.Organisation{isp, bank} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	// The bank wants phishing only.
	if err := a.Store.SetNotifyPolicy(sys, bank.ID, &notify.Policy{Classes: []string{"fraud"}, Recipients: []string{"soc@bravo.example"}}); err != nil {
		t.Fatal(err)
	}
	waitForLookup(t, a, netip.MustParseAddr("192.0.2.200"), bank.ID)
	fd := &focal.FeedDef{Name: "bf", Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}
	ingestAndWait(t, a, fd, "192.0.2.200\n")
	events, _, err := a.Store.Events(sys, focal.EventFilter{Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("events = %v, %v", events, err)
	}
	analyst := userToken(t, a, "ana", focal.RoleAnalyst, 0)
	status, _, body := apiCall(t, a, analyst, "GET", "/api/v1/events/"+itoa(events[0].ID)+"/recipients", nil)
	if status != http.StatusOK {
		t.Fatalf("recipients = %d %s", status, body)
	}
	res := decodeJSON[struct {
		Recipients []struct {
			Org        string   `json:"org"`
			Matched    []string `json:"matched"`
			Notify     bool     `json:"notify"`
			Reason     string   `json:"reason"`
			Recipients []string `json:"recipients"`
			Policy     string   `json:"policy"`
		} `json:"recipients"`
	}](t, body)
	got := map[string]int{}
	for i, r := range res.Recipients {
		got[r.Org] = i
	}
	if len(res.Recipients) != 2 {
		t.Fatalf("recipients %s; want both organisations (the ISP's /24 and the bank's /25)", body)
	}
	alpha, bravo := res.Recipients[got["Alpha ISP"]], res.Recipients[got["Bravo Bank"]]
	if !alpha.Notify || alpha.Policy != "default" || len(alpha.Recipients) != 1 || alpha.Recipients[0] != "abuse@alpha.example" ||
		!strings.Contains(strings.Join(alpha.Matched, " "), "192.0.2.200") {
		t.Errorf("Alpha: %+v; want notified by its default policy because of its network", alpha)
	}
	if bravo.Notify || bravo.Policy != "set" || bravo.Reason == "" {
		t.Errorf("Bravo: %+v; want not notified (it wants fraud only), with the reason", bravo)
	}
	// The feed's view: both organisations have one event of it.
	status, _, body = apiCall(t, a, analyst, "GET", "/api/v1/feeds/"+itoa(fd.ID)+"/recipients", nil)
	if status != http.StatusOK || !strings.Contains(body, `"org":"Alpha ISP"`) || !strings.Contains(body, `"org":"Bravo Bank"`) ||
		strings.Count(body, `"events":1`) != 2 || strings.Count(body, `"notify":true`) != 1 {
		t.Errorf("feed recipients = %d %s; want both organisations, one event each, only Alpha notified", status, body)
	}
	if status, _, _ := apiCall(t, a, analyst, "GET", "/api/v1/feeds/"+itoa(fd.ID)+"/recipients?days=0", nil); status != http.StatusBadRequest {
		t.Errorf("days=0 = %d, want 400", status)
	}
	constituent := userToken(t, a, "alpha", focal.RoleConstituent, isp.ID)
	if status, _, _ := apiCall(t, a, constituent, "GET", "/api/v1/events/"+itoa(events[0].ID)+"/recipients", nil); status != http.StatusForbidden {
		t.Errorf("a constituent asking who receives an event = %d, want 403", status)
	}
}

func TestNotifyPolicyAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	o := &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR", Contacts: []focal.Contact{{Email: "abuse@alpha.example", Role: "abuse"}}}
	if err := a.Store.CreateOrganisation(sys, o); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/organisations/" + itoa(o.ID) + "/notify-policy"
	status, _, body := apiCall(t, a, tok, "GET", path, nil)
	if status != http.StatusOK || !strings.Contains(body, `"source":"default"`) || !strings.Contains(body, "abuse@alpha.example") {
		t.Errorf("default policy = %d %s", status, body)
	}
	status, _, body = apiCall(t, a, tok, "PUT", path, strings.NewReader(`{"recipients":["not an address"]}`), "Content-Type", "application/json")
	if status != http.StatusBadRequest || !strings.Contains(body, "recipients") {
		t.Errorf("bad recipient = %d %s; want 400 naming recipients", status, body)
	}
	status, _, body = apiCall(t, a, tok, "PUT", path, strings.NewReader(`{"channel":"webhook","webhook_url":"https://hooks.alpha.example/focal","webhook_secret":"s3cret-s3cret-s3cret","schedule":"hourly"}`), "Content-Type", "application/json")
	if status != http.StatusOK || strings.Contains(body, "s3cret") {
		t.Fatalf("set policy = %d %s; want 200 without the secret", status, body)
	}
	status, _, body = apiCall(t, a, tok, "GET", path, nil)
	if status != http.StatusOK || !strings.Contains(body, `"source":"set"`) || !strings.Contains(body, "hooks.alpha.example") || strings.Contains(body, "s3cret") {
		t.Errorf("stored policy = %d %s", status, body)
	}
}

// TestTeamKeyRefusedWhenUnusable checks focal will not start with a team
// key it cannot use, naming the setting, rather than send unsigned mail.
func TestTeamKeyRefusedWhenUnusable(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "team.asc")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{bad, filepath.Join(dir, "missing.asc")} {
		cfg := config.Default()
		cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(t.TempDir(), "data")
		cfg.TeamEmail, cfg.TeamKey = "cert@cert.example", key
		a := app.New(cfg, nullLogger())
		err := a.Run(context.Background())
		if err == nil {
			a.Close()
			t.Fatalf("focal started with team key %s", key)
		}
		if !strings.Contains(err.Error(), "team key") || !strings.Contains(err.Error(), "--team-key") {
			t.Errorf("error %q does not name the team key setting", err)
		}
	}
}

func TestIncidentRecipients(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	victim := &focal.Organisation{Name: "Victim", Sector: "isp", Country: "FR", Contacts: []focal.Contact{{Email: "abuse@victim.example", Role: "abuse"}}}
	host := &focal.Organisation{Name: "Hoster", Sector: "hosting", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		Contacts: []focal.Contact{{Email: "noc@hoster.example", Role: "technical"}}}
	for _, o := range []*focal.Organisation{victim, host} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	waitForLookup(t, a, netip.MustParseAddr("198.51.100.9"), host.ID)
	inc := &focal.Incident{Title: "Phishing page", OrgID: victim.ID, Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}
	if err := a.Store.CreateIncident(sys, inc, []focal.Observable{{Kind: "ipv4", Value: "198.51.100.9"}}); err != nil {
		t.Fatal(err)
	}
	handler := userToken(t, a, "han", focal.RoleHandler, 0)
	status, _, body := apiCall(t, a, handler, "GET", "/api/v1/incidents/"+itoa(inc.ID)+"/recipients", nil)
	if status != http.StatusOK {
		t.Fatalf("incident recipients = %d %s", status, body)
	}
	res := decodeJSON[struct {
		Recipients []struct {
			Org      string   `json:"org"`
			Why      []string `json:"why"`
			Portal   bool     `json:"portal"`
			Contacts []string `json:"contacts"`
		} `json:"recipients"`
	}](t, body)
	if len(res.Recipients) != 2 {
		t.Fatalf("recipients %s; want the victim and the hoster", body)
	}
	v, h := res.Recipients[0], res.Recipients[1]
	if v.Org != "Victim" || !v.Portal || len(v.Contacts) != 1 || v.Contacts[0] != "abuse@victim.example" {
		t.Errorf("victim: %+v", v)
	}
	if h.Org != "Hoster" || h.Portal || !strings.Contains(strings.Join(h.Why, " "), "198.51.100.9") || h.Contacts[0] != "noc@hoster.example" {
		t.Errorf("hoster: %+v; want not in its portal, owning the address, its contact", h)
	}
}
