package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
)

// startLinkChecker checks assessment evidence links in the background:
// a broken link flags its answer, never deletes it.
func (a *App) startLinkChecker(wctx context.Context) {
	lc := &assess.LinkChecker{Store: a.Store, Logger: a.Logger, Interval: time.Hour, Recheck: 7 * 24 * time.Hour, Client: publicClient(15 * time.Second)}
	a.workers.Go(func() { _ = lc.Run(focal.NewContextWithPrincipal(wctx, focal.System())) })
}

// publicClient is an HTTP client that only connects to public addresses:
// evidence URLs are typed by people, and the server must not become a
// way to probe the team's internal network (loopback, private, link-local
// and other special ranges are refused at connect time, after DNS, so a
// name that resolves inside is refused too).
func publicClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !publicAddr(ap.Addr()) {
			return fmt.Errorf("refusing to connect to %s: not a public address", ap.Addr())
		}
		return nil
	}}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil,
		TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout, MaxIdleConns: 4}}
}

// publicAddr reports whether a is routable on the public internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a) && !netip.MustParsePrefix("fc00::/7").Contains(a)
}
