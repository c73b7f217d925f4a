// Package connectjwt authenticates Connect RPCs (connectrpc.com/connect)
// with a jwtgate.Gate.
//
// New compiles a policy (Options) once into an Interceptor, a
// connect.Interceptor for handlers, unary and streaming: every procedure
// gets a jwtgate.Route, the Gate's own checks (Optional, Fresh, Refresh,
// Scopes, SkipRevocation, IgnoreInvalid, ...), chosen by procedure name,
// by service, or by a default; public procedures get none.
//
//	in, err := connectjwt.New(gate, connectjwt.Options{
//		Procedures: map[string]jwtgate.RouteOptions{
//			"/shop.Orders/Cancel": {Fresh: true, Scopes: []string{"orders:write"}},
//		},
//		Public: []string{"/shop.Catalog/"},
//	})
//	path, handler := shopconnect.NewOrdersHandler(srv, connect.WithInterceptors(in))
//
// A call's token is its one Authorization header, "Bearer <token>", the
// same over the Connect, gRPC and gRPC-Web protocols; no header is no
// token, and several headers, another scheme or a malformed value are
// refused (Options.Token replaces this reading, for bearer tokens only).
// Handlers find the verified token and user in their context with
// jwtgate.TokenFrom and jwtgate.User, as net/http handlers behind the
// Gate do.
//
// On a Gate with Config.DPoP, a call may also send a DPoP-bound token
// (RFC 9449) as "Authorization: DPoP <token>" with one DPoP header. A
// Connect call is an HTTP request, a POST (or a GET for a unary call to
// an idempotent procedure) to the procedure's path, so the proof is for
// that method and the URL origin/package.Service/Method. Interceptors do
// not see the *http.Request, only its header: the origin is
// Options.Origin, or https and the Host header, which is right for a
// service addressed over https, with or without a proxy that ends TLS
// and keeps Host; set Origin otherwise. Proofs are checked as the Gate
// checks them on HTTP routes (jwtgate.Route.VerifyCall), and
// RouteOptions.DPoP applies: DPoPRequired takes only DPoP-bound tokens,
// DPoPRefused only bearer tokens, and a bound token sent as a bearer
// token is refused. When the Gate wants a server nonce, the refusal
// carries it in a DPoP-Nonce response header, over every protocol. On
// the client, dpop.Transport as the http.Client's transport makes the
// proofs (it sees the request) and keeps the nonces it is given.
//
// Refusals are *connect.Error values: CodeUnauthenticated for no, a
// malformed, an invalid, expired or revoked token, the wrong token type
// or an unknown user; CodePermissionDenied for a valid token that is not
// enough (not fresh, insufficient scope, refused by Config.VerifyClaims);
// CodeUnavailable when the revocation store, the user store or a key
// source cannot answer, so that nothing passes unchecked (fail closed,
// unless Config.FailOpen). Their messages name the failed check and
// never quote the token. On a client, the Interceptor does nothing.
package connectjwt
