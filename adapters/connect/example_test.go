package connectjwt_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
	"github.com/jwtgate/jwtgate/jwt"
)

// A Connect procedure, written without generated code, that needs a
// token, called with and without one.
func Example() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	in, err := connectjwt.New(gate, connectjwt.Options{}) // a token everywhere
	if err != nil {
		panic(err)
	}

	const procedure = "/example.Users/WhoAmI"
	mux := http.NewServeMux()
	mux.Handle(procedure, connect.NewUnaryHandler(procedure,
		func(ctx context.Context, _ *connect.Request[emptypb.Empty]) (*connect.Response[wrapperspb.StringValue], error) {
			t, _ := jwtgate.TokenFrom(ctx) // the interceptor put it there
			return connect.NewResponse(wrapperspb.String(t.Identity)), nil
		}, connect.WithInterceptors(in)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client := connect.NewClient[emptypb.Empty, wrapperspb.StringValue](srv.Client(), srv.URL+procedure)
	_, err = client.CallUnary(context.Background(), connect.NewRequest(&emptypb.Empty{}))
	fmt.Println(connect.CodeOf(err), err)

	token, _ := gate.CreateAccessToken(context.Background(), "alice")
	req := connect.NewRequest(&emptypb.Empty{})
	req.Header().Set("Authorization", "Bearer "+token)
	res, err := client.CallUnary(context.Background(), req)
	fmt.Println(res.Msg.GetValue(), err)
	// Output:
	// unauthenticated unauthenticated: Request does not contain an access token
	// alice <nil>
}

// A policy: a public service, an optional procedure, and a procedure
// that needs a fresh token with a scope.
func ExampleNew() {
	key, _ := jwt.NewHMACKey([]byte("a secret of at least thirty-two bytes!"))
	gate, _ := jwtgate.New(jwtgate.Config{SigningKey: key})
	in, err := connectjwt.New(gate, connectjwt.Options{
		Procedures: map[string]jwtgate.RouteOptions{
			"/shop.Catalog/Recommend": {Optional: true},
			"/shop.Orders/Cancel":     {Fresh: true, Scopes: []string{"orders:write"}},
		},
		Public: []string{"/shop.Catalog/List", "/grpc.health.v1.Health/"},
	})
	if err != nil {
		panic(err)
	}
	_ = connect.WithInterceptors(in) // an option of every handler constructor

	// A mistake is caught when the interceptor is made.
	_, err = connectjwt.New(gate, connectjwt.Options{
		Procedures: map[string]jwtgate.RouteOptions{"/shop.Orders/Cancel": {Scopes: []string{"orders write"}}},
	})
	fmt.Println(err != nil)
	// Output:
	// true
}
