package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/auth"
)

func init() {
	register(command{name: "token", args: "create|list|revoke [flags]", help: "API tokens: create (printed once), list, revoke", run: runToken})
}

func runToken(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "token", args, map[string]func(context.Context, *Env, []string) error{
		"create": runTokenCreate, "list": runTokenList, "revoke": runTokenRevoke,
	}, []string{"create", "list", "revoke"})
}

func runTokenCreate(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "token create", "--name N --role R [--role R2 …] [--user E]",
		"Creates an API token for Authorization: Bearer TOKEN and prints it once, as the last word of the\n"+
			"output; only its SHA-256 is kept. With --user the token acts for that user: it may hold only\n"+
			"roles the user holds and is revoked when the user is disabled.")
	var c common
	c.bind(fs)
	name := fs.String("name", "", "a name for the token, unique among active tokens (letters, digits, . _ -)")
	var roles stringsFlag
	fs.Var(&roles, "role", "a role (repeatable), e.g. ingest for CI and connectors")
	user := fs.String("user", "", "e-mail address of the user the token acts for (optional)")
	a, err := parseAndOpen(ctx, env, fs, &c, args, need("name", name), needRoles(&roles))
	if err != nil {
		return err
	}
	defer a.Close()
	secret, t, err := a.svc.CreateToken(ctx, cliActor(env), auth.NewToken{Name: *name, Roles: roles, Owner: *user})
	if err != nil {
		return inputError(err)
	}
	owner := ""
	if t.OwnerEmail != "" {
		owner = ", acting for " + t.OwnerEmail
	}
	fmt.Fprintf(env.Stdout, "Created token %s (id %d; roles: %s%s).\nIt is shown only now and cannot be recovered; store it as a secret:\n%s\n",
		t.Name, t.ID, strings.Join(t.Roles, ", "), owner, secret)
	return nil
}

func runTokenList(ctx context.Context, env *Env, args []string) error {
	a, format, err := openList(ctx, env, "token list", "Lists API tokens, revoked ones too: id, name, the token's public prefix, roles, owner, who created it and when, last use.", args)
	if err != nil {
		return err
	}
	defer a.Close()
	ts, err := a.svc.Tokens(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		type token struct {
			ID        int64      `json:"id"`
			Name      string     `json:"name"`
			Prefix    string     `json:"prefix"`
			Roles     []string   `json:"roles"`
			Owner     string     `json:"owner,omitempty"`
			CreatedBy string     `json:"created_by"`
			CreatedAt time.Time  `json:"created_at"`
			LastUsed  *time.Time `json:"last_used"`
			RevokedAt *time.Time `json:"revoked_at"`
		}
		out := make([]token, len(ts))
		for i, t := range ts {
			out[i] = token{t.ID, t.Name, auth.TokenDisplay(t.Lookup), t.Roles, t.OwnerEmail, t.CreatedBy, t.CreatedAt, timeOrNil(t.LastUsed), timeOrNil(t.RevokedAt)}
		}
		return writeJSONOut(env, map[string]any{"tokens": out})
	}
	if len(ts) == 0 {
		fmt.Fprintln(env.Stdout, "No tokens yet: candor token create --name N --role R")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTOKEN\tROLES\tOWNER\tCREATED BY\tCREATED\tLAST USED\tSTATUS")
	for _, t := range ts {
		status := "active"
		if t.Revoked() {
			status = "revoked " + when(t.RevokedAt)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, auth.TokenDisplay(t.Lookup), strings.Join(t.Roles, ","),
			orDash(t.OwnerEmail), t.CreatedBy, when(t.CreatedAt), when(t.LastUsed), status)
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "token revoke", "--name N | --id ID", "Revokes an API token, at once and for good: requests bearing it are refused from then on.")
	var c common
	c.bind(fs)
	name := fs.String("name", "", "name of the active token")
	id := fs.Int64("id", 0, "id of the token (candor token list)")
	a, err := parseAndOpen(ctx, env, fs, &c, args, func() error {
		switch {
		case *name == "" && *id == 0:
			return usagef("--name or --id is required")
		case *name != "" && *id != 0:
			return usagef("give --name or --id, not both")
		case *id < 0:
			return usagef("--id: %d is not a token id", *id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.svc.RevokeToken(ctx, cliActor(env), *name, *id)
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintf(env.Stdout, "Revoked token %s (id %d, %s).\n", t.Name, t.ID, auth.TokenDisplay(t.Lookup))
	return nil
}
