package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
)

// clientSettings are the flags of clients add and update.
type clientSettings struct {
	scopes, jwks, jwksURI, name *string
	audiences                   listFlag
	ttl                         *time.Duration
	refresh, disabled           *bool
}

func addClientFlags(fs *flag.FlagSet, update bool) *clientSettings {
	cs := &clientSettings{
		scopes:  fs.String("scopes", "", "comma-separated scopes the client may ask for; its tokens get them all when it names none"),
		jwks:    fs.String("jwks", "", "file with the client's public keys (a JWK Set, or one JWK) for private_key_jwt"),
		jwksURI: fs.String("jwks-uri", "", "https: URL of the client's JWK Set for private_key_jwt (fetched and cached 5 minutes)"),
		ttl:     fs.Duration("ttl", 0, "lifetime of the client's access tokens (at most 24h); 0: the server's --access-ttl"),
		refresh: fs.Bool("refresh", false, "give the client refresh tokens with its access tokens (off by default, RFC 6749 section 4.4.3)"),
	}
	fs.Var(&cs.audiences, "audience", "a resource server (absolute URI) the client's tokens may name with the resource parameter; repeat for several, the first is the default; none: the server's --audience")
	if update {
		cs.name = fs.String("name", "", "a new name")
		cs.disabled = fs.Bool("disabled", false, "disable the client (it gets no token, its tokens are revoked) or, with =false, enable it")
		fs.Lookup("audience").Usage += " (replaces the list)"
	}
	return cs
}

// update returns the change the given flags make (every one for add,
// where the keys are read only when given).
func (cs *clientSettings) update(given map[string]bool, add bool) (server.ClientUpdate, error) {
	var u server.ClientUpdate
	set := func(name string) bool { return add || given[name] }
	if set("scopes") {
		sc := splitList(*cs.scopes)
		u.Scopes = &sc
	}
	if set("audience") {
		a := []string(cs.audiences)
		u.Audiences = &a
	}
	if set("ttl") {
		u.TTL = cs.ttl
	}
	if set("refresh") {
		u.Refresh = cs.refresh
	}
	if given["jwks"] || (add && *cs.jwks != "") {
		b, err := os.ReadFile(*cs.jwks)
		if err != nil {
			return u, err
		}
		jwks := string(b)
		u.JWKS = &jwks
	}
	if given["jwks-uri"] || (add && *cs.jwksURI != "") {
		u.JWKSURI = cs.jwksURI
	}
	if cs.name != nil && given["name"] {
		u.Name = cs.name
	}
	if cs.disabled != nil && given["disabled"] {
		u.Disabled = cs.disabled
	}
	return u, nil
}

// clientsCmd opens the stores like the users commands and runs do with
// the positional arguments and the flags given on the command line.
func clientsCmd(e *env, name, synopsis string, nargs int, args []string, define func(*flag.FlagSet) any,
	do func(d *server.Stores, pos []string, given map[string]bool, flags any, ttl time.Duration) int) int {
	fs := e.newFlags("clients "+name, "clients "+name+" "+synopsis+" [--data-dir DIR | --database-url URL [--redis ADDR]]")
	vars := map[string]string{}
	config := fs.String("config", "", "the JSON config file of jwtgate serve, for its stores [JWTGATE_CONFIG]")
	stores := addStoreFlags(fs, vars)
	var flags any
	if define != nil {
		flags = define(fs)
	}
	var ttl *time.Duration
	if name == "delete" || name == "update" {
		ttl = fs.Duration("refresh-ttl", 720*time.Hour, "the server's refresh token lifetime: a deleted or disabled client's tokens are revoked for this long [JWTGATE_REFRESH_TTL]")
		vars["refresh-ttl"] = "JWTGATE_REFRESH_TTL"
	}
	pos, code, ok := parse(e, fs, args)
	if !ok {
		return code
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !storeSources(e, fs, vars, *config) {
		return exitUsage
	}
	if len(pos) != nargs {
		e.errorf("clients %s: want %d argument(s), got %d", name, nargs, len(pos))
		fs.Usage()
		return exitUsage
	}
	octx, cancel := context.WithTimeout(e.ctx, usersOpenTimeout)
	data, err := server.Open(octx, stores.config(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{ReplaceAttr: userErrors}))))
	cancel()
	if err != nil {
		e.errorf("clients %s: %v", name, storeErr(err, usersOpenTimeout))
		return exitUsage
	}
	defer data.Close()
	var lifetime time.Duration
	if ttl != nil {
		if lifetime = *ttl; lifetime <= 0 {
			e.errorf("clients %s: --refresh-ttl must be positive", name)
			return exitUsage
		}
	}
	return do(data, pos, given, flags, lifetime)
}

// clientResult maps a client store error to an exit code.
func (e *env) clientResult(cmd string, err error) int {
	err = storeErr(err, usersStoreTimeout)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, server.ErrBadClient):
		e.errorf("clients %s: %v", cmd, err)
		return exitUsage
	}
	e.errorf("clients %s: %v", cmd, err)
	return exitRejected
}

func clientsAdd(e *env, args []string) int {
	return clientsCmd(e, "add", "NAME --scopes a,b [--audience URI]... [--jwks FILE | --jwks-uri URL] [--ttl D] [--refresh]\n\n"+
		"Without --jwks or --jwks-uri the client gets a secret (256 random bits), printed once:\n"+
		"only its SHA-256 is stored.", 1, args,
		func(fs *flag.FlagSet) any { return addClientFlags(fs, false) },
		func(d *server.Stores, pos []string, given map[string]bool, flags any, _ time.Duration) int {
			u, err := flags.(*clientSettings).update(given, true)
			if err != nil {
				return e.clientResult("add", fmt.Errorf("%w: %w", server.ErrBadClient, err))
			}
			c := &server.Client{Name: pos[0], Scopes: *u.Scopes, Audiences: *u.Audiences, TTL: *u.TTL, Refresh: *u.Refresh}
			if u.JWKS != nil {
				c.JWKS = *u.JWKS
			}
			if u.JWKSURI != nil {
				c.JWKSURI = *u.JWKSURI
			}
			ctx, cancel := e.storeCtx()
			defer cancel()
			secret, err := d.Accounts(0).AddClient(ctx, server.CLIActor, c)
			if code := e.clientResult("add", err); code != exitOK {
				return code
			}
			fmt.Fprintf(e.stdout, "client_id: %s\n", c.ID)
			if secret != "" {
				fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
				fmt.Fprintln(e.stderr, "The secret is shown only now: store it where the client reads it.")
			}
			return exitOK
		})
}

func clientsUpdate(e *env, args []string) int {
	return clientsCmd(e, "update", "ID|NAME [--scopes a,b] [--audience URI]... [--jwks FILE | --jwks-uri URL] [--ttl D] [--refresh[=false]] [--name NAME] [--disabled[=false]]", 1, args,
		func(fs *flag.FlagSet) any { return addClientFlags(fs, true) },
		func(d *server.Stores, pos []string, given map[string]bool, flags any, ttl time.Duration) int {
			ctx, cancel := e.storeCtx()
			defer cancel()
			u, err := flags.(*clientSettings).update(given, false)
			if err != nil {
				return e.clientResult("update", fmt.Errorf("%w: %w", server.ErrBadClient, err))
			}
			c, _, err := d.Accounts(ttl).UpdateClient(ctx, server.CLIActor, pos[0], u)
			if errors.Is(err, server.ErrSessionsNotEnded) {
				e.errorf("clients update: %s is disabled, but its tokens could not be revoked: %v; run the command again", c.ID, storeErr(err, usersStoreTimeout))
				return exitRejected
			}
			if code := e.clientResult("update", err); code != exitOK {
				return code
			}
			if c.Disabled && u.Disabled != nil {
				if err := d.WaitRevocations(ctx); err != nil {
					return e.clientResult("update", err)
				}
			}
			fmt.Fprintf(e.stdout, "updated client %s\n", c.ID)
			return exitOK
		})
}

func clientsRotate(e *env, args []string) int {
	return clientsCmd(e, "rotate-secret", "ID|NAME [--grace D]\n\nThe new secret is printed once; the old one keeps working for --grace.", 1, args,
		func(fs *flag.FlagSet) any {
			return fs.Duration("grace", time.Hour, "how long the old secret stays valid (0: not at all), so that clients can move to the new one")
		},
		func(d *server.Stores, pos []string, _ map[string]bool, flags any, _ time.Duration) int {
			grace := *flags.(*time.Duration)
			if grace < 0 || grace > server.MaxSecretGrace {
				e.errorf("clients rotate-secret: --grace %v: want 0 to %v", grace, server.MaxSecretGrace)
				return exitUsage
			}
			ctx, cancel := e.storeCtx()
			defer cancel()
			c, secret, err := d.Accounts(0).RotateClientSecret(ctx, server.CLIActor, pos[0], grace)
			if code := e.clientResult("rotate-secret", err); code != exitOK {
				return code
			}
			fmt.Fprintf(e.stdout, "client_id: %s\nclient_secret: %s\n", c.ID, secret)
			if grace > 0 {
				fmt.Fprintf(e.stderr, "The old secret works until %s.\n", time.Now().Add(grace).UTC().Format(time.RFC3339))
			}
			return exitOK
		})
}

func clientsDelete(e *env, args []string) int {
	return clientsCmd(e, "delete", "ID|NAME", 1, args, nil,
		func(d *server.Stores, pos []string, _ map[string]bool, _ any, ttl time.Duration) int {
			ctx, cancel := e.storeCtx()
			defer cancel()
			c, err := d.Accounts(ttl).DeleteClient(ctx, server.CLIActor, pos[0])
			if errors.Is(err, server.ErrSessionsNotEnded) {
				e.errorf("clients delete: the tokens of %s could not be revoked, so it is kept, disabled: %v; run the command again", pos[0], storeErr(err, usersStoreTimeout))
				return exitRejected
			}
			if code := e.clientResult("delete", err); code != exitOK {
				return code
			}
			if err := d.WaitRevocations(ctx); err != nil {
				return e.clientResult("delete", err)
			}
			fmt.Fprintf(e.stdout, "deleted client %s\n", c.ID)
			return exitOK
		})
}

func clientsList(e *env, args []string) int {
	return clientsCmd(e, "list", "", 0, args, nil,
		func(d *server.Stores, _ []string, _ map[string]bool, _ any, _ time.Duration) int {
			ctx, cancel := e.storeCtx()
			defer cancel()
			cs, err := d.Clients.List(ctx)
			if err != nil {
				return e.clientResult("list", err)
			}
			for _, c := range cs {
				state := "enabled"
				if c.Disabled {
					state = "disabled"
				}
				fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", c.ID, c.Name, state, strings.Join(c.Scopes, " "))
			}
			return exitOK
		})
}

func clientsShow(e *env, args []string) int {
	return clientsCmd(e, "show", "ID|NAME", 1, args, nil,
		func(d *server.Stores, pos []string, _ map[string]bool, _ any, _ time.Duration) int {
			ctx, cancel := e.storeCtx()
			defer cancel()
			c, err := d.Clients.Find(ctx, pos[0])
			if err != nil {
				return e.clientResult("show", err)
			}
			writeClient(e.stdout, c)
			return exitOK
		})
}

// writeClient prints a client's settings, never its secret hashes.
func writeClient(w io.Writer, c *server.Client) {
	auth := []string{}
	if c.SecretHash != "" {
		auth = append(auth, "client_secret_basic", "client_secret_post")
	}
	if c.JWKS != "" || c.JWKSURI != "" {
		auth = append(auth, "private_key_jwt")
	}
	ttl := "the server's"
	if c.TTL > 0 {
		ttl = c.TTL.String()
	}
	fmt.Fprintf(w, "client_id: %s\nname: %s\ndisabled: %t\nscopes: %s\naudiences: %s\ntoken lifetime: %s\nrefresh tokens: %t\nauthentication: %s\n",
		c.ID, c.Name, c.Disabled, strings.Join(c.Scopes, " "), strings.Join(c.Audiences, " "), ttl, c.Refresh, strings.Join(auth, " "))
	if c.JWKSURI != "" {
		fmt.Fprintf(w, "jwks_uri: %s\n", c.JWKSURI)
	}
	if c.OldSecretHash != "" && time.Now().Before(c.OldSecretUntil) {
		fmt.Fprintf(w, "previous secret valid until: %s\n", c.OldSecretUntil.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "created: %s\n", c.Created.UTC().Format(time.RFC3339))
}
