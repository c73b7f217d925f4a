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
// refused (Options.Token replaces this reading). Tokens are bearer
// tokens: a DPoP-bound token is refused, and a policy that requires DPoP
// is refused by New. Handlers find the verified token and user in their
// context with jwtgate.TokenFrom and jwtgate.User, as net/http handlers
// behind the Gate do.
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
