package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// The peers this node polls: coordinators manage them, staff read them;
// the push hint is for peer accounts.
func init() {
	peerRead := staffRead
	matrix["GET /api/v1/peers"] = peerRead
	matrix["POST /api/v1/peers"] = with(coordinatorRW, expect{"coordinator": created})
	matrix["GET /api/v1/peers/{id}"] = peerRead
	matrix["PUT /api/v1/peers/{id}"] = coordinatorRW
	matrix["DELETE /api/v1/peers/{id}"] = with(coordinatorRW, expect{"coordinator": noBody})
	matrix["POST /api/v1/peers/{id}/poll"] = with(coordinatorRW, expect{"coordinator": accepted})
	matrix["POST /api/v1/federation/hint"] = expect{"*": forbid, "anonymous": unauth, "peer": accepted}
	matrix["GET /federation"] = with(staffRead, expect{"anonymous": see})
	matrix["POST /federation/peers"] = with(coordinatorRW, expect{"coordinator": see})
	matrix["POST /federation/peers/{id}/poll"] = with(coordinatorRW, expect{"coordinator": see})
	matrix["POST /federation/peers/{id}/delete"] = with(coordinatorRW, expect{"coordinator": see})
	extraFixtures = append(extraFixtures, peerFixture)
}

// peerFixture makes the peer a route of /api/v1/peers acts on.
func peerFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, _ *focal.Organisation, unique string) (string, string, bool) {
	switch {
	case rt.Path == "/api/v1/federation/hint":
		return rt.Path, `{"collection":"network"}`, true
	case !strings.HasPrefix(rt.Path, "/api/v1/peers") && !strings.HasPrefix(rt.Path, "/federation/peers"):
		return "", "", false
	}
	name := strings.ReplaceAll(strings.ToLower(unique), "_", "-")
	p := &store.Peer{Name: "p" + name[len(name)-20:], APIRoot: "https://peer.example/taxii2/focal/", Collection: "network", Auth: store.PeerAuthNone, Enabled: false}
	if err := st.CreatePeer(sys, p); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"name":"q%s","api_root":"https://peer.example/taxii2/focal/","collection":"network","enabled":false}`, name[len(name)-20:])
	if strings.HasPrefix(rt.Path, "/federation/") {
		body = fmt.Sprintf("name=q%s&url=https%%3A%%2F%%2Fpeer.example%%2Ftaxii2%%2Ffocal%%2F&collection=network&auth=none&interval=1h", name[len(name)-20:])
	}
	return strings.Replace(rt.Path, "{id}", fmt.Sprint(p.ID), 1), body, true
}
