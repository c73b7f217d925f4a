// Command jwtgate signs, verifies, decodes and generates JSON Web Tokens
// and keys from the shell.
//
//	jwtgate token verify --key FILE [--alg ALG] [--leeway DUR] [--now UNIX] [--aud AUD] [--iss ISS] [--require CLAIM,...] [--jws] TOKEN|-
//	jwtgate token sign   --key FILE|--secret FILE --alg ALG [--kid KID] [--exp DURATION] [--claims JSON|@FILE|-]
//	jwtgate token decode TOKEN|-
//	jwtgate keys generate --alg ALG [--bits N] [--kid KID] [--out PREFIX]
//	jwtgate keys thumbprint FILE
//	jwtgate keys public FILE
//	jwtgate keys rotate [--data-dir DIR] [--alg ALG] [--retire-after DURATION]
//	jwtgate serve [--addr ADDR] [--data-dir DIR] [--issuer URL] [--audience URL] [--alg ALG] [--access-ttl DUR] [--refresh-ttl DUR]
//	jwtgate users add|passwd|delete [--data-dir DIR] USER
//	jwtgate users list [--data-dir DIR]
//	jwtgate clients add NAME --scopes a,b [--audience URI]... [--jwks FILE|--jwks-uri URL] [--ttl D] [--refresh]
//	jwtgate clients update|rotate-secret|show|delete ID|NAME
//	jwtgate clients list
//
// "jwtgate serve" runs the token service of package server on the data
// directory (SQLite database and signing key, created on first start,
// with a user "admin" whose random password is logged once, after every
// setting has been checked; until that password is used or changed, each
// start says how to set one). Its flags can also be set with JWTGATE_*
// environment variables. "jwtgate users" manages the users of a data
// directory; passwords are read from the terminal or standard input,
// never from arguments, and new ones need at least 8 characters
// (--min-password-length), at most 1024 bytes, and not the username in any letter case.
// "jwtgate clients" manages the OAuth 2.0 clients of the token
// endpoint, in the same stores; a new client's secret is printed once.
// Started by "go run", serve stops when the go command does.
//
// Exit status: 0 on success, 1 when a token is rejected (or a users
// command or the server fails), 2 for usage and key errors. Run any command with --help for its flags.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitRejected = 1 // a token failed verification
	exitUsage    = 2 // bad usage, bad key, unreadable input
)

const usage = `jwtgate: JWT authentication for Go HTTP services.

Usage:
  jwtgate token verify --key FILE|--secret FILE [flags] TOKEN|-
  jwtgate token sign   --key FILE|--secret FILE --alg ALG [flags]
  jwtgate token decode TOKEN|-
  jwtgate keys generate --alg ALG [--bits N] [--kid KID] [--out PREFIX]
  jwtgate keys thumbprint FILE
  jwtgate keys public FILE
  jwtgate keys rotate [--data-dir DIR] [--alg ALG] [--retire-after DUR]
  jwtgate serve [--addr ADDR] [--data-dir DIR] [flags]
  jwtgate users add|passwd|delete [--data-dir DIR] USER
  jwtgate users list [--data-dir DIR]
  jwtgate clients add NAME --scopes a,b [--audience URI]... [--jwks FILE|--jwks-uri URL] [--ttl D] [--refresh]
  jwtgate clients update ID|NAME [flags]
  jwtgate clients rotate-secret ID|NAME [--grace D]
  jwtgate clients list|show|delete [ID|NAME]

Run "jwtgate COMMAND SUBCOMMAND --help" for the flags of a command.
Exit status: 0 success, 1 token rejected or command failed, 2 usage or key error.
`

// env is what a command may touch: its arguments, standard streams and
// context, so tests run commands in process.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitUsage
	}
	cmds := map[string]map[string]func(*env, []string) int{
		"token": {"verify": tokenVerify, "sign": tokenSign, "decode": tokenDecode},
		"keys":  {"generate": keysGenerate, "thumbprint": keysThumbprint, "public": keysPublic, "rotate": keysRotate},
		"users": {"add": usersAdd, "passwd": usersPasswd, "delete": usersDelete, "list": usersList},
		"clients": {"add": clientsAdd, "update": clientsUpdate, "rotate-secret": clientsRotate, "delete": clientsDelete,
			"list": clientsList, "show": clientsShow},
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, usage)
		return exitOK
	case "serve":
		return serve(e, args[1:])
	}
	group, ok := cmds[args[0]]
	if !ok {
		e.errorf("unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		if len(args) < 2 {
			e.errorf("%s: missing subcommand\n\n%s", args[0], usage)
			return exitUsage
		}
		io.WriteString(stdout, usage)
		return exitOK
	}
	cmd, ok := group[args[1]]
	if !ok {
		e.errorf("unknown command %q\n\n%s", args[0]+" "+args[1], usage)
		return exitUsage
	}
	return cmd(e, args[2:])
}
