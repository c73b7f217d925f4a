package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// The tables the RPC adapters' own tests share, written once in terms
// that fit both: options as RPCOptions, codes as RPCCode, methods by
// name. Each adapter maps them onto its own Options, New and codes.

// RPCCode is the code of an RPC's answer, numbered as gRPC numbers its
// codes (google.golang.org/grpc/codes); Connect's codes
// (connectrpc.com/connect) follow the same numbers, so either adapter's
// code converts to it.
type RPCCode uint32

// The codes the RPC adapters answer with.
const (
	CodeOK               RPCCode = 0
	CodeCanceled         RPCCode = 1
	CodeDeadlineExceeded RPCCode = 4
	CodePermissionDenied RPCCode = 7
	CodeInternal         RPCCode = 13
	CodeUnavailable      RPCCode = 14
	CodeUnauthenticated  RPCCode = 16
)

var rpcCodeNames = [...]string{
	CodeOK: "OK", CodeCanceled: "Canceled", CodeDeadlineExceeded: "DeadlineExceeded", CodePermissionDenied: "PermissionDenied",
	CodeInternal: "Internal", CodeUnavailable: "Unavailable", CodeUnauthenticated: "Unauthenticated",
}

func (c RPCCode) String() string {
	if int(c) < len(rpcCodeNames) && rpcCodeNames[c] != "" {
		return rpcCodeNames[c]
	}
	return fmt.Sprintf("code %d", uint32(c))
}

// RPCOptions are an RPC adapter's options, named neutrally: Default and
// Public as both adapters name them, Methods for their per-method routes
// (grpcjwt's Methods, connectjwt's Procedures), Origin as both name it,
// and Token for a Token hook (one that finds no token) instead of the
// reading of the authorization metadata.
type RPCOptions struct {
	Default jwtgate.RouteOptions
	Methods map[string]jwtgate.RouteOptions
	Public  []string
	Origin  string
	Token   bool
}

// GreeterService is the name, with its slashes, of the test service of
// the RPC adapters: Greeter, with the unary methods Hello, Fresh, Orders,
// Public, Maybe, Lenient, Refresh and Unchecked, each answering Greeting,
// and the server stream Count.
const GreeterService = "/jwtgate.test.Greeter/"

// GreeterPolicy protects Greeter: Hello and Count with the default (an
// access token), Fresh a fresh one, Orders the scope orders:write, Maybe
// optional, Lenient optional ignoring invalid tokens, Refresh a refresh
// token, Unchecked without revocation check; Public is public.
func GreeterPolicy() RPCOptions {
	s := GreeterService
	return RPCOptions{
		Methods: map[string]jwtgate.RouteOptions{
			s + "Fresh":     {Fresh: true},
			s + "Orders":    {Scopes: []string{"orders:write"}},
			s + "Maybe":     {Optional: true},
			s + "Lenient":   {Optional: true, IgnoreInvalid: true},
			s + "Refresh":   {Refresh: true},
			s + "Unchecked": {SkipRevocation: true},
		},
		Public: []string{s + "Public"},
	}
}

// Greeting is what every Greeter handler answers: who the context says
// the caller is ("hello alice", "hello anonymous"), with the loaded user
// of a HookEnv if any ("hello bob (user Bob)").
func Greeting(ctx context.Context) string {
	t, ok := jwtgate.TokenFrom(ctx)
	if !ok {
		return "hello anonymous"
	}
	if u, ok := jwtgate.User[*User](ctx); ok {
		return "hello " + t.Identity + " (user " + u.Name + ")"
	}
	return "hello " + t.Identity
}

// rpcSecret signs the tokens of the Gates RunRPCNewRefuses makes.
var rpcSecret = []byte("the RPC adapters' refusal tests secret")

// RunRPCNewRefuses checks that an RPC adapter's New, called through
// newFn with each adapter option mapped onto its own, refuses every
// option combination that cannot work, with no interceptor and an error
// wrapping jwtgate.ErrConfig that names the option: on a Gate without
// DPoP, on one with DPoP, and a nil Gate. It checks too that New accepts
// the origins it should with DPoPRequired. The method names are
// GreeterService's.
func RunRPCNewRefuses[T any](t *testing.T, newFn func(g *jwtgate.Gate, o RPCOptions) (*T, error)) {
	t.Helper()
	s := GreeterService
	plain := NewHookEnv(t, rpcSecret).Gate
	withDPoP := DPoPGate(t, rpcSecret, nil)
	route := func(ro jwtgate.RouteOptions) map[string]jwtgate.RouteOptions {
		return map[string]jwtgate.RouteOptions{s + "Hello": ro}
	}
	required := jwtgate.RouteOptions{DPoP: jwtgate.DPoPRequired}
	for _, tt := range []struct {
		name string
		g    *jwtgate.Gate
		opts RPCOptions
		want string
	}{
		{"Locations", plain, RPCOptions{Default: jwtgate.RouteOptions{Locations: []jwtgate.Location{jwtgate.InHeader{}}}}, "Locations"},
		{"WebSocket", plain, RPCOptions{Methods: route(jwtgate.RouteOptions{WebSocket: true})}, "WebSocket"},
		{"route the Gate refuses", plain, RPCOptions{Methods: route(jwtgate.RouteOptions{IgnoreInvalid: true})}, "IgnoreInvalid"},
		{"DPoPRequired without Config.DPoP", plain, RPCOptions{Default: required}, "DPoPRequired"},
		{"name without slash", plain, RPCOptions{Public: []string{"Greeter.Hello"}}, "Greeter.Hello"},
		{"name without method slash", plain, RPCOptions{Methods: map[string]jwtgate.RouteOptions{"/Greeter": {}}}, "/Greeter"},
		{"name too deep", plain, RPCOptions{Public: []string{"/a/b/c"}}, "/a/b/c"},
		{"no service", plain, RPCOptions{Public: []string{"//Hello"}}, "//Hello"},
		{"public and per-method", plain, RPCOptions{Public: []string{s + "Hello"}, Methods: route(jwtgate.RouteOptions{})}, "both"},
		{"DPoPRequired by default with a Token hook", withDPoP, RPCOptions{Token: true, Default: required}, "DPoPRequired"},
		{"DPoPRequired on a method with a Token hook", withDPoP, RPCOptions{Token: true, Methods: route(required)}, "DPoPRequired"},
		{"Origin not a URL", withDPoP, RPCOptions{Origin: "api.example.com"}, "Origin"},
		{"Origin with a path", withDPoP, RPCOptions{Origin: "https://api.example.com/grpc"}, "Origin"},
		{"Origin with another path", withDPoP, RPCOptions{Origin: "https://api.example.com/rpc"}, "Origin"},
		{"Origin with a query", withDPoP, RPCOptions{Origin: "https://api.example.com?x=1"}, "Origin"},
		{"Origin with a fragment", withDPoP, RPCOptions{Origin: "https://api.example.com#x"}, "Origin"},
		{"Origin with user", withDPoP, RPCOptions{Origin: "https://u@api.example.com"}, "Origin"},
		{"Origin of the gRPC scheme", withDPoP, RPCOptions{Origin: "grpc://api.example.com"}, "Origin"},
		{"Origin of another scheme", withDPoP, RPCOptions{Origin: "ftp://api.example.com"}, "Origin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := newFn(tt.g, tt.opts)
			if in != nil || !errors.Is(err, jwtgate.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, %v; want ErrConfig mentioning %q", in, err, tt.want)
			}
		})
	}
	if in, err := newFn(nil, RPCOptions{}); in != nil || !errors.Is(err, jwtgate.ErrConfig) {
		t.Errorf("nil Gate: %v, %v; want ErrConfig", in, err)
	}
	for _, o := range []string{"https://api.example.com", "https://api.example.com/", "http://10.0.0.1:8080/", "https://[::1]:8443"} {
		if in, err := newFn(withDPoP, RPCOptions{Origin: o, Default: required}); in == nil || err != nil {
			t.Errorf("Origin %q with DPoPRequired: %v, %v", o, in, err)
		}
	}
}

// RunRPCBearer checks an RPC adapter's parsers of authorization values:
// parse, the parser of one value (ParseBearer), and read, that of the
// values of a call (BearerToken, given the values as the call's
// metadata). Each must give the token of "Bearer <token>" (the scheme in
// any case), "" and no error for no value or an empty one, and an error
// wrapping jwtgate.ErrBadHeader for several values, another scheme or
// anything but one word after the scheme.
func RunRPCBearer(t *testing.T, parse func(v string) (string, error), read func(vs []string) (string, error)) {
	t.Helper()
	try := func(vals []string, wantTok string, bad bool) {
		t.Helper()
		ok := func(tok string, err error) bool {
			return tok == wantTok && (err != nil) == bad && (err == nil || errors.Is(err, jwtgate.ErrBadHeader))
		}
		if tok, err := read(vals); !ok(tok, err) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, bad %v", vals, tok, err, wantTok, bad)
		}
		if len(vals) != 1 {
			return
		}
		if tok, err := parse(vals[0]); !ok(tok, err) {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, bad %v", vals[0], tok, err, wantTok, bad)
		}
	}
	// The values of a call that give a token, or none ("").
	for _, tt := range []struct {
		vals []string
		tok  string
	}{
		{nil, ""}, {[]string{""}, ""}, {[]string{"   "}, ""},
		{[]string{"Bearer abc"}, "abc"}, {[]string{"bearer abc"}, "abc"}, {[]string{"BEARER  abc"}, "abc"},
		{[]string{"BEARER  abc "}, "abc"}, {[]string{"  Bearer abc  "}, "abc"},
	} {
		try(tt.vals, tt.tok, false)
	}
	// Those refused: several values, another scheme, not one word after
	// the scheme.
	for _, vals := range [][]string{
		{"Bearer abc", "Bearer abc"}, {"", ""},
		{"Bearer\tabc"}, {"Bearer"}, {"Bearer "}, {"Bearer a b"}, {"Bearer a,b"}, {"Bearer a\tb"},
		{"Basic abc"}, {"Basic x, Bearer abc"}, {"DPoP abc"}, {"abc"}, {"Bearerabc"},
	} {
		try(vals, "", true)
	}
}

// RPCCodeCase is an error and the code an RPC adapter answers it with.
type RPCCodeCase struct {
	Err  error
	Code RPCCode
}

// RPCCodeCases are the Gate's refusals, and errors that are none of
// them, with the code an RPC adapter answers each with.
func RPCCodeCases() []RPCCodeCase {
	return []RPCCodeCase{
		{jwtgate.ErrNoToken, CodeUnauthenticated},
		{jwtgate.ErrBadHeader, CodeUnauthenticated},
		{jwtgate.ErrInvalid, CodeUnauthenticated},
		{jwtgate.ErrExpired, CodeUnauthenticated},
		{jwtgate.ErrRevoked, CodeUnauthenticated},
		{jwtgate.ErrWrongType, CodeUnauthenticated},
		{jwtgate.ErrUserLoad, CodeUnauthenticated},
		{jwtgate.ErrNotFresh, CodePermissionDenied},
		{jwtgate.ErrInsufficientScope, CodePermissionDenied},
		{jwtgate.ErrClaims, CodePermissionDenied},
		{jwtgate.ErrCSRF, CodePermissionDenied},
		{jwtgate.ErrDPoP, CodeUnauthenticated},
		{jwtgate.ErrDPoPNonce, CodeUnauthenticated},
		{jwtgate.ErrUnavailable, CodeUnavailable},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.Canceled), CodeCanceled},
		{jwtgate.NewError(jwtgate.ErrUnavailable, "x", context.DeadlineExceeded), CodeDeadlineExceeded},
		{jwtgate.ErrConfig, CodeInternal},
		{errors.New("anything else"), CodeUnauthenticated},
	}
}

// RunRPCCodes checks that code, an RPC adapter's mapping of errors to
// its codes, answers each of RPCCodeCases with its code; what names the
// mapping in messages.
func RunRPCCodes[C ~uint32](t *testing.T, what string, code func(error) C) {
	t.Helper()
	for _, tt := range RPCCodeCases() {
		if got := RPCCode(code(tt.Err)); got != tt.Code {
			t.Errorf("%s(%v) = %v, want %v", what, tt.Err, got, tt.Code)
		}
	}
}

// RPCCall is one call to a Greeter method with authorization values,
// and the answer it must get: Code, and with CodeOK the reply Want, else
// a message containing Want.
type RPCCall struct {
	Name, Method string
	Auth         []string
	Code         RPCCode
	Want         string
}

// RPCUnaryCalls are the calls to Greeter's unary methods, protected by
// GreeterPolicy on e's Gate, that an RPC adapter must answer as the Gate
// would: tokens valid and not, methods of each policy. It marks one of
// e's tokens revoked.
func RPCUnaryCalls(t testing.TB, e *HookEnv) []RPCCall {
	t.Helper()
	alice := e.Access(t, "alice")
	fresh := e.Access(t, "alice", jwtgate.Fresh())
	scoped := e.Access(t, "alice", jwtgate.WithClaims(map[string]any{"scope": "orders:read orders:write"}))
	bound := e.Access(t, "alice", jwtgate.WithClaims(map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}))
	revoked := e.Access(t, "alice")
	rt, err := e.Gate.DecodeToken(context.Background(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	e.Revoked.Store(rt.Claims.ID, true)
	forged := alice[:len(alice)-2] + "AA"
	if forged == alice {
		forged = alice[:len(alice)-2] + "BA"
	}
	B := func(tok string) []string { return []string{"Bearer " + tok} }
	const unauth, denied = CodeUnauthenticated, CodePermissionDenied
	return []RPCCall{
		{"valid", "Hello", B(alice), CodeOK, "hello alice"},
		{"scheme in lower case", "Hello", []string{"bearer " + alice}, CodeOK, "hello alice"},
		{"user loaded", "Hello", B(e.Access(t, "bob")), CodeOK, "hello bob (user Bob)"},
		{"no token", "Hello", nil, unauth, "does not contain an access token"},
		{"empty value", "Hello", []string{""}, unauth, "does not contain an access token"},
		{"two values", "Hello", append(B(alice), "Bearer "+alice), unauth, "more than one value"},
		{"other scheme", "Hello", []string{"Basic YWxpY2U6cHc="}, unauth, "expected 'Bearer <JWT>'"},
		{"scheme alone", "Hello", []string{"Bearer"}, unauth, "expected 'Bearer <JWT>'"},
		{"two words", "Hello", []string{"Bearer " + alice + " extra"}, unauth, "expected 'Bearer <JWT>'"},
		{"DPoP-bound token as bearer", "Hello", B(bound), unauth, "bound to a DPoP key"},
		{"bad signature", "Hello", B(forged), unauth, "Signature verification failed"},
		{"not a JWT", "Hello", B("not.a.jwt"), unauth, "Malformed token"},
		{"expired", "Hello", B(e.Expired(t, "alice")), unauth, "expired"},
		{"revoked", "Hello", B(revoked), unauth, "revoked"},
		{"revoked, method skips revocation", "Unchecked", B(revoked), CodeOK, "hello alice"},
		{"refresh token", "Hello", B(e.Refresh(t, "alice")), unauth, "Wrong token type"},
		{"unknown user", "Hello", B(e.Access(t, "ghost")), unauth, "User could not be loaded"},
		{"claims hook refuses", "Hello", B(e.Access(t, "mallory")), denied, "claims verification failed"},
		{"fresh method, fresh token", "Fresh", B(fresh), CodeOK, "hello alice"},
		{"fresh method, token not fresh", "Fresh", B(alice), denied, "Fresh token required"},
		{"scoped method, scope given", "Orders", B(scoped), CodeOK, "hello alice"},
		{"scoped method, no scope", "Orders", B(alice), denied, "scope"},
		{"public method, no token", "Public", nil, CodeOK, "hello anonymous"},
		{"public method, garbage", "Public", []string{"garbage garbage garbage"}, CodeOK, "hello anonymous"},
		{"optional method, no token", "Maybe", nil, CodeOK, "hello anonymous"},
		{"optional method, token", "Maybe", B(alice), CodeOK, "hello alice"},
		{"optional method, bad token", "Maybe", B(forged), unauth, "Signature"},
		{"optional method, revoked token", "Maybe", B(revoked), unauth, "revoked"},
		{"lenient method, bad token", "Lenient", B(forged), CodeOK, "hello anonymous"},
		{"lenient method, malformed value", "Lenient", []string{"Bearer a b"}, CodeOK, "hello anonymous"},
		{"lenient method, revoked token", "Lenient", B(revoked), unauth, "revoked"},
		{"refresh method, refresh token", "Refresh", B(e.Refresh(t, "alice")), CodeOK, "hello alice"},
		{"refresh method, access token", "Refresh", B(alice), unauth, "Wrong token type"},
	}
}

// Check checks the answer to c: the reply, or the error, its code and
// its message. A refusal's message must contain c.Want and quote none of
// the tokens sent.
func (c RPCCall) Check(t testing.TB, reply string, err error, code RPCCode, msg string) {
	t.Helper()
	if c.Code == CodeOK {
		if err != nil || reply != c.Want {
			t.Errorf("got %q, %v; want %q", reply, err, c.Want)
		}
		return
	}
	if err == nil || code != c.Code {
		t.Fatalf("got %q, %v (%v); want code %v", reply, err, code, c.Code)
	}
	if !strings.Contains(msg, c.Want) {
		t.Errorf("message %q, want it to contain %q", msg, c.Want)
	}
	for _, a := range c.Auth {
		if _, tok, _ := strings.Cut(a, " "); len(tok) > 8 && strings.Contains(msg, tok) {
			t.Errorf("message %q quotes the token", msg)
		}
	}
}

// RPCStreamRefusals are calls to Greeter's stream Count, protected by
// GreeterPolicy on e's Gate, that an RPC adapter must refuse before the
// handler sends anything.
func RPCStreamRefusals(t testing.TB, e *HookEnv) []RPCCall {
	t.Helper()
	return []RPCCall{
		{"no token", "Count", nil, CodeUnauthenticated, "does not contain an access token"},
		{"expired", "Count", []string{"Bearer " + e.Expired(t, "bob")}, CodeUnauthenticated, "expired"},
		{"claims hook refuses", "Count", []string{"Bearer " + e.Access(t, "mallory")}, CodePermissionDenied, "claims verification failed"},
	}
}

// StoreOutage is one of a HookEnv's stores down: Down(true) takes it
// down, Down(false) brings it back, and Want is the message of the
// Unavailable refusal a call then gets.
type StoreOutage struct {
	Name string
	Down func(bool)
	Want string
}

// StoreOutages are e's stores that can go down, each with the message a
// call gets meanwhile.
func StoreOutages(e *HookEnv) []StoreOutage {
	return []StoreOutage{
		{"revocation store", e.StoreDown.Store, "Revocation check unavailable"},
		{"user store", e.UsersDown.Store, "User store unavailable"},
	}
}
