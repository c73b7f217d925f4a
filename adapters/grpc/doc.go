// Package grpcjwt authenticates gRPC calls with a jwtgate.Gate, and gives
// clients per-RPC credentials that send a token.
//
// On the server, New compiles a policy (Options) once into an
// Interceptor: every method gets a jwtgate.Route, the Gate's own checks
// (Optional, Fresh, Refresh, Scopes, SkipRevocation, IgnoreInvalid, ...),
// chosen by full method name, by service, or by a default; public methods
// get none. Its Unary and Stream methods are the server interceptors:
//
//	in, err := grpcjwt.New(gate, grpcjwt.Options{
//		Methods: map[string]jwtgate.RouteOptions{
//			"/shop.Orders/Cancel": {Fresh: true, Scopes: []string{"orders:write"}},
//		},
//		Public: []string{"/grpc.health.v1.Health/"},
//	})
//	srv := grpc.NewServer(grpc.UnaryInterceptor(in.Unary), grpc.StreamInterceptor(in.Stream))
//
// A call's token is the one value of its "authorization" metadata,
// "Bearer <token>"; no value is no token, and several values, another
// scheme or a malformed value are refused (Options.Token replaces this
// reading, for bearer tokens only). Handlers, streaming ones included,
// find the verified token and user in their context with
// jwtgate.TokenFrom and jwtgate.User, as net/http handlers behind the
// Gate do.
//
// On a Gate with Config.DPoP, a call may also send a DPoP-bound token
// (RFC 9449) as "DPoP <token>" with one proof in its "dpop" metadata.
// A gRPC call is an HTTP/2 POST to the full method's path, so the proof
// is for method POST and the URL https://authority/package.Service/Method
// (http on a connection without TLS), where authority is the :authority
// the server received, or for Options.Origin and the path when the
// service is reached through a proxy or load balancer. Proofs are checked
// as the Gate checks them on HTTP routes (jwtgate.Route.VerifyCall), and
// RouteOptions.DPoP applies: DPoPRequired takes only DPoP-bound tokens,
// DPoPRefused only bearer tokens, and a bound token sent as a bearer
// token is refused. When the Gate wants a server nonce, the refusal
// carries it in the "dpop-nonce" response header.
//
// Refusals are status errors: Unauthenticated for no, a malformed, an
// invalid, expired or revoked token, the wrong token type or an unknown
// user; PermissionDenied for a valid token that is not enough (not fresh,
// insufficient scope, refused by Config.VerifyClaims); Unavailable when
// the revocation store, the user store or a key source cannot answer, so
// that nothing passes unchecked (fail closed, unless Config.FailOpen).
// Their messages name the failed check and never quote the token.
//
// On the client, Credentials (credentials.PerRPCCredentials) attach a
// token from a fetch callback, cache it until shortly before its exp, and
// with RetryUnary fetch a new one and retry once when a server answers
// Unauthenticated. With CredentialsOptions.DPoP they send the token
// under the DPoP scheme with a proof for each call; RetryUnary then
// retries a call refused for want of a nonce once with the nonce the
// server gave, and StreamNonces keeps the nonce from a refused stream
// for the next one. They refuse insecure connections unless told
// otherwise.
package grpcjwt
