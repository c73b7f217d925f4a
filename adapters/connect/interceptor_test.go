package connectjwt_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/adapters/adaptertest"
	connectjwt "github.com/jwtgate/jwtgate/adapters/connect"
)

// call makes a unary call to procedure with the given Authorization
// values and returns the reply and the HTTP version it came over.
func call(ctx context.Context, url string, hc *http.Client, tr transport, procedure string, auth ...string) (string, string, error) {
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+procedure, clientOptions(tr)...)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for _, a := range auth {
		req.Header().Add("Authorization", a)
	}
	res, err := c.CallUnary(ctx, req)
	if err != nil {
		return "", "", err
	}
	return res.Msg.GetValue(), res.Header().Get("X-Proto"), nil
}

func TestUnary(t *testing.T) {
	e := newEnv(t)
	h := handler(mustNew(t, e.Gate, testPolicy))
	calls := adaptertest.RPCUnaryCalls(t, e)
	for _, tr := range transports {
		url, hc := server(t, h, tr)
		for _, c := range calls {
			t.Run(tr.name+"/"+c.Name, func(t *testing.T) {
				got, proto, err := call(t.Context(), url, hc, tr, c.Method, c.Auth...)
				if err == nil && proto != tr.proto {
					t.Errorf("the reply came over %s, want %s", proto, tr.proto)
				}
				checkCall(t, c, got, err)
			})
		}
	}
}

// checkCall checks the answer to c.
func checkCall(t *testing.T, c adaptertest.RPCCall, reply string, err error) {
	t.Helper()
	msg := ""
	if ce := new(connect.Error); errors.As(err, &ce) {
		msg = ce.Message()
	}
	c.Check(t, reply, err, adaptertest.RPCCode(connect.CodeOf(err)), msg)
}

// readStream calls Count and returns its messages and final error.
func readStream(ctx context.Context, url string, hc *http.Client, tr transport, auth ...string) ([]string, error) {
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Count", clientOptions(tr)...)
	req := connect.NewRequest(wrapperspb.String("hi"))
	for _, a := range auth {
		req.Header().Add("Authorization", a)
	}
	s, err := c.CallServerStream(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var got []string
	for s.Receive() {
		got = append(got, s.Msg().GetValue())
	}
	return got, s.Err()
}

func TestStream(t *testing.T) {
	e := newEnv(t)
	h := handler(mustNew(t, e.Gate, testPolicy))
	bob := "Bearer " + e.Access(t, "bob")
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			url, hc := server(t, h, tr)
			got, err := readStream(t.Context(), url, hc, tr, bob)
			want := "hello bob (user Bob) 0|hello bob (user Bob) 1|hello bob (user Bob) 2"
			if err != nil || strings.Join(got, "|") != want {
				t.Errorf("stream sent %q, %v; want %q", got, err, want)
			}
			for _, c := range adaptertest.RPCStreamRefusals(t, e) {
				t.Run(c.Name, func(t *testing.T) {
					got, err := readStream(t.Context(), url, hc, tr, c.Auth...)
					if len(got) != 0 {
						t.Errorf("the stream sent %q", got)
					}
					checkCall(t, c, "", err)
				})
			}
		})
	}
}

// Stores that cannot answer refuse the call: fail closed.
func TestUnavailable(t *testing.T) {
	e := newEnv(t)
	tr := transports[1]
	url, hc := server(t, handler(mustNew(t, e.Gate, testPolicy)), tr)
	bob := "Bearer " + e.Access(t, "bob")
	for _, tt := range adaptertest.StoreOutages(e) {
		t.Run(tt.Name, func(t *testing.T) {
			tt.Down(true)
			defer tt.Down(false)
			_, _, err := call(t.Context(), url, hc, tr, "Hello", bob)
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeUnavailable || ce.Message() != tt.Want {
				t.Errorf("got %v, want Unavailable %q", err, tt.Want)
			}
			if _, _, err := call(t.Context(), url, hc, tr, "Lenient", bob); connect.CodeOf(err) != connect.CodeUnavailable {
				t.Errorf("optional procedure: %v, want Unavailable", err)
			}
			if _, err := readStream(t.Context(), url, hc, tr, bob); connect.CodeOf(err) != connect.CodeUnavailable {
				t.Errorf("stream: %v, want Unavailable", err)
			}
		})
	}
}

// A whole service can get its own checks; a procedure's own entry wins.
// Options.Token replaces the reading of the Authorization header. On a
// client, the interceptor does nothing.
func TestPolicyAndHooks(t *testing.T) {
	e := newEnv(t)
	alice := e.Access(t, "alice")
	in := mustNew(t, e.Gate, connectjwt.Options{
		Procedures: map[string]jwtgate.RouteOptions{svc: {Optional: true}, svc + "Fresh": {Fresh: true}},
		Token: func(_ context.Context, procedure string, h http.Header) (string, error) {
			if !strings.HasPrefix(procedure, svc) {
				return "", errors.New("unexpected procedure " + procedure)
			}
			return h.Get("X-Token"), nil
		},
	})
	tr := transports[0]
	url, hc := server(t, handler(in), tr)
	c := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc, url+svc+"Hello", connect.WithInterceptors(in))
	req := connect.NewRequest(wrapperspb.String("hi"))
	req.Header().Set("Authorization", "Bearer "+alice)
	if res, err := c.CallUnary(t.Context(), req); err != nil || res.Msg.GetValue() != "hello anonymous" {
		t.Errorf("Authorization header with a Token hook: %v, %v", res, err)
	}
	req = connect.NewRequest(wrapperspb.String("hi"))
	req.Header().Set("X-Token", alice)
	if res, err := c.CallUnary(t.Context(), req); err != nil || res.Msg.GetValue() != "hello alice" {
		t.Errorf("X-Token: %v, %v", res, err)
	}
	if _, _, err := call(t.Context(), url, hc, tr, "Fresh"); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("procedure entry: %v, want Unauthenticated", err)
	}
	in = mustNew(t, e.Gate, connectjwt.Options{Public: []string{svc}})
	url, hc = server(t, handler(in), tr)
	if got, err := readStream(t.Context(), url, hc, tr); err != nil || len(got) != 3 || got[0] != "hello anonymous 0" {
		t.Errorf("public service stream: %q, %v", got, err)
	}
}

func TestNewRefuses(t *testing.T) {
	adaptertest.RunRPCNewRefuses(t, func(g *jwtgate.Gate, o adaptertest.RPCOptions) (*connectjwt.Interceptor, error) {
		return connectjwt.New(g, options(o))
	})
}

func TestBearer(t *testing.T) {
	adaptertest.RunRPCBearer(t, connectjwt.ParseBearer, func(vs []string) (string, error) {
		return connectjwt.BearerToken(http.Header{"Authorization": vs})
	})
}

// Error's error has Code's code and a message.
func TestCode(t *testing.T) {
	adaptertest.RunRPCCodes(t, "Code", connectjwt.Code)
	adaptertest.RunRPCCodes(t, "Error", func(err error) connect.Code {
		if ce := connectjwt.Error(err); ce.Message() != "" {
			return ce.Code()
		}
		return connect.CodeUnknown
	})
	if connectjwt.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}
