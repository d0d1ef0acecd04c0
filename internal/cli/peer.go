package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"focal/internal/federation"
	"focal/internal/store"
)

// runPeer is `focal peer`: the TAXII servers (other focal points) this
// node polls. Register it in commands() as
// {"peer", "manage the peers this node polls: add, list, remove, poll", runPeer}.
func runPeer(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "peer", []subcommand{
		{"add", "--name N --url API-ROOT --collection ID [--ca FILE] [--token T | --token-stdin | --user U --password-stdin] [--account A] [--import-collection ID] [--interval 1m]",
			"register a peer's TAXII collection to poll", peerAdd},
		{"list", "[--json]", "list the peers and the health of each link", peerList},
		{"remove", "--name N", "remove a peer (what it imported stays)", peerRemove},
		{"poll", "--name N", "make a peer due at once (a running focal polls it within a second)", peerPoll},
	})
}

func peerAdd(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	name := fs.String("name", "", "a name for the peer: lower-case letters, digits, '.', '_', '-' (required)")
	apiRoot := fs.String("url", "", "the https URL of the peer's TAXII API root, e.g. https://b.example/taxii2/focal/ (required)")
	collection := fs.String("collection", "", "the id of the peer's collection to poll (required)")
	caFile := fs.String("ca", "", "a PEM file of CA certificates to trust for the peer (default: the system's)")
	token := fs.String("token", "", "a bearer token for the peer (its API token for our account there); visible to other local users in the process list: prefer --token-stdin")
	tokenStdin := fs.Bool("token-stdin", false, "read the bearer token from the first line of standard input")
	user := fs.String("user", "", "the user name for HTTP Basic authentication at the peer")
	fromStdin := fs.Bool("password-stdin", false, "read the Basic password from the first line of standard input")
	account := fs.String("account", "", "our local peer account that the peer's node uses to call us (its push hints make us poll at once)")
	importColl := fs.String("import-collection", "", "a local collection id to add the imported objects to, for our own peers")
	interval := fs.Duration("interval", store.DefaultPeerInterval, "how often to poll, from 1s to 24h")
	disabled := fs.Bool("disabled", false, "register the peer without polling it yet")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" || *apiRoot == "" || *collection == "" {
		return usagef("--name, --url and --collection are required")
	}
	p := &store.Peer{Name: *name, APIRoot: *apiRoot, Collection: *collection, Auth: store.PeerAuthNone, Account: *account,
		ImportCollection: *importColl, PollInterval: *interval, Enabled: !*disabled}
	if *tokenStdin {
		if *token != "" || *fromStdin {
			return usagef("--token-stdin excludes --token and --password-stdin")
		}
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if *token = strings.TrimRight(line, "\r\n"); *token == "" {
			return usagef("--token-stdin: no token on standard input (%v)", err)
		}
	}
	switch {
	case *token != "" && (*user != "" || *fromStdin):
		return usagef("--token excludes --user and --password-stdin")
	case *token != "":
		p.Auth, p.Secret = store.PeerAuthBearer, *token
	case *user != "":
		if !*fromStdin {
			return usagef("--user needs --password-stdin (the password is read from standard input)")
		}
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("--password-stdin: no password on standard input")
		}
		p.Auth, p.Username, p.Secret = store.PeerAuthBasic, *user, strings.TrimRight(line, "\r\n")
		if p.Secret == "" {
			return usagef("--password-stdin: no password on standard input")
		}
	case *fromStdin:
		return usagef("--password-stdin needs --user")
	}
	if *caFile != "" {
		b, err := os.ReadFile(*caFile)
		if err != nil {
			return usagef("--ca: %v", err)
		}
		p.CAPEM = string(b)
	}
	if err := p.Validate(); err != nil {
		return usagef("%s", peerFlagError(err))
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if err := st.CreatePeer(operator(ctx), p); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(env.Stdout, "added peer %s: polling %scollections/%s/ every %s\n", p.Name, p.APIRoot, p.Collection, p.PollInterval)
	return nil
}

// peerFlagError names the flag behind a peer field error.
func peerFlagError(err error) string {
	msg := storeError(err).Error()
	for field, flag := range map[string]string{"api_root": "--url", "ca_pem": "--ca", "username": "--user", "secret": "--token/--password-stdin",
		"import_collection": "--import-collection", "interval": "--interval", "name": "--name", "collection": "--collection", "account": "--account"} {
		if strings.HasPrefix(msg, field+": ") {
			return flag + ": " + strings.TrimPrefix(msg, field+": ")
		}
	}
	return msg
}

func peerList(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	asJSON := fs.Bool("json", false, "print JSON (one array of peers) instead of a table")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ps, err := st.Peers(operator(ctx))
	if err != nil {
		return storeError(err)
	}
	if *asJSON {
		out := make([]federation.PeerBody, len(ps))
		for i, p := range ps {
			out[i] = federation.ToBody(p)
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHEALTH\tINTERVAL\tIMPORTED\tLAST SUCCESS\tURL\tCOLLECTION\tLAST ERROR")
	for _, p := range ps {
		last := "never"
		if !p.LastSuccess.IsZero() {
			last = p.LastSuccess.Format(time.RFC3339)
		}
		health := federation.Health(p)
		if !p.Enabled {
			health = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", p.Name, health, p.PollInterval, p.ObjectsImported, last, p.APIRoot, p.Collection,
			truncateLine(p.LastError, 80))
	}
	return tw.Flush()
}

func truncateLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func peerRemove(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	return withPeer(ctx, env, fs, args, func(ctx context.Context, st *store.Store, p *store.Peer) error {
		if err := st.DeletePeer(ctx, p.ID); err != nil {
			return storeError(err)
		}
		fmt.Fprintf(env.Stdout, "removed peer %s\n", p.Name)
		return nil
	})
}

func peerPoll(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	return withPeer(ctx, env, fs, args, func(ctx context.Context, st *store.Store, p *store.Peer) error {
		if err := st.PollNow(ctx, p.ID); err != nil {
			return storeError(err)
		}
		fmt.Fprintf(env.Stdout, "peer %s is due now; a running focal polls it within a second\n", p.Name)
		return nil
	})
}

// withPeer parses --name, opens the store and runs fn on that peer as the
// operator.
func withPeer(ctx context.Context, env Env, fs *flag.FlagSet, args []string, fn func(context.Context, *store.Store, *store.Peer) error) (err error) {
	name := fs.String("name", "", "the peer's name (required)")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ctx = operator(ctx)
	p, err := st.PeerByName(ctx, *name)
	if err != nil {
		return storeError(err)
	}
	return fn(ctx, st, p)
}
