// Package federation is the client side of focal's cooperative network:
// the peers (other TAXII 2.1 servers, usually other focal points) whose
// collections this node polls, and push hints between focal nodes.
//
// A Poller polls every enabled peer on its interval (down to 1 s): it
// claims the peer in the store (a lease, so that of several focal
// processes on one database only one polls it), reads the remote
// collection's objects from the peer's cursor (its own
// X-TAXII-Date-Added-Last, never our clock) in pages of up to 1,000,
// following next (or, when a server gives more without next, added_after
// from the last page), and hands each page over before the cursor moves:
// objects are validated (stix.Validate; invalid ones are counted, never
// fatal), those already imported from the peer (same id and version) are
// skipped, and the rest go to the pipeline as one STIX bundle through
// the feed "taxii-<peer>" — where they become events matched to the
// constituency — and, if the peer has an import collection, into that
// local TAXII collection, so that our own peers receive them. A peer that
// fails (refused, garbage, a hang: every request times out and every
// page is bounded) backs off exponentially and is marked failing; no
// other peer is affected.
//
// A Hinter tells the peers' nodes, after a local collection changes, to
// poll us now: POST {"collection": "<id>"} to /api/v1/federation/hint,
// at most once per 200 ms per peer. The API's hint handler makes every
// peer whose account is the caller due at once and wakes the Poller.
// Hints are optional; with any other TAXII server federation is plain
// polling (a 404 to a hint is remembered). docs/federation.md documents
// the protocol.
//
// API serves the peers under /api/v1/peers and the hint endpoint; Health
// summarises a link for the directory page.
package federation
