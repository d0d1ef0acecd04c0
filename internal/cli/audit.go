package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

func runAudit(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "audit", []subcommand{
		{"verify", "", "check the audit log's hash chain: exit 1 if a record was edited, deleted or inserted", auditVerify},
	})
}

func auditVerify(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	head := v.Head
	if head == "" {
		head = "none"
	}
	fmt.Fprintf(env.Stdout, "audit log: %d records, head %s\n", v.Records, head)
	for _, p := range v.Problems {
		fmt.Fprintf(env.Stdout, "record %d: %s\n", p.ID, p.Reason)
	}
	if len(v.Problems) > 0 {
		first := v.Problems[0]
		return fmt.Errorf("audit log is not intact: %s, the first at record %d: %s", plural(len(v.Problems), "problem"), first.ID, first.Reason)
	}
	return nil
}
