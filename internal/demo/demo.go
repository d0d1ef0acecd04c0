// Package demo fills a fresh focal with a plausible data set, so a newcomer
// who runs `focal demo` has something to look at and log in to. Every name,
// address and domain in it is fictional or from the documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32,
// AS64496–AS64511, example.* domains).
package demo

import (
	"context"
	"fmt"
	"time"

	"focal/internal/store"
)

// Login is a demo account printed in the banner.
type Login struct {
	Role     string
	Name     string
	Password string
}

// Result says what Seed created.
type Result struct {
	Logins []Login
}

// MarkerKey is the focal_meta key that marks a demo database.
const MarkerKey = "demo"

// Seed loads the demo data set into st. It is meant for an empty database
// and refuses one that already holds a demo data set.
func Seed(ctx context.Context, st *store.Store) (Result, error) {
	if _, err := st.Meta(ctx, MarkerKey); err == nil {
		return Result{}, fmt.Errorf("demo: database already holds a demo data set")
	}
	if err := st.SetMeta(ctx, MarkerKey, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	return Result{}, nil
}
