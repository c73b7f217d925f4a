package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/dpop"
	"github.com/jwtgate/jwtgate/internal/proctest"
	"github.com/jwtgate/jwtgate/jwt"
)

const secret = "grpc-example-secret-0123456789abcdefghij"

func TestGRPC(t *testing.T) {
	bin := proctest.Build(t)
	p := proctest.Listen(t, bin, []string{"JWT_SECRET_KEY=" + secret}, "-addr", "127.0.0.1:0")
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
	with := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	login := func(user, password string) (access, refresh string, err error) {
		in, _ := structpb.NewStruct(map[string]any{"username": user, "password": password})
		out := new(structpb.Struct)
		err = conn.Invoke(ctx, service+"Login", in, out)
		return out.GetFields()["access_token"].GetStringValue(), out.GetFields()["refresh_token"].GetStringValue(), err
	}
	call := func(ctx context.Context, method string) (string, error) {
		out := new(wrapperspb.StringValue)
		err := conn.Invoke(ctx, service+method, &emptypb.Empty{}, out)
		return out.GetValue(), err
	}
	wantCode := func(err error, code codes.Code, msg string) {
		t.Helper()
		if st := status.Convert(err); st.Code() != code || !strings.Contains(st.Message(), msg) {
			t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), code, msg)
		}
	}

	if _, _, err := login("alice", "wrong"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("bad password: %v", err)
	}
	access, refresh, err := login("alice", "alice-pw")
	if err != nil || access == "" || refresh == "" {
		t.Fatalf("login: %v", err)
	}
	bobAccess, _, err := login("bob", "bob-pw")
	if err != nil {
		t.Fatal(err)
	}

	if got, err := call(with(access), "Hello"); err != nil || got != "Hello, alice" {
		t.Errorf("Hello: %q, %v", got, err)
	}
	_, err = call(ctx, "Hello")
	wantCode(err, codes.Unauthenticated, "does not contain an access token")
	_, err = call(with(refresh), "Hello")
	wantCode(err, codes.Unauthenticated, "Wrong token type")
	_, err = call(with(access[:len(access)-3]+"AAA"), "Hello")
	wantCode(err, codes.Unauthenticated, "Signature verification failed")

	key, _ := jwt.NewHMACKey([]byte(secret), jwt.HS256)
	old, _ := jwtgate.New(jwtgate.Config{SigningKey: key, Clock: func() time.Time { return time.Now().Add(-time.Hour) }})
	expired, _ := old.CreateAccessToken(ctx, "alice", jwtgate.Fresh())
	_, err = call(with(expired), "Hello")
	wantCode(err, codes.Unauthenticated, "expired")

	if got, err := call(with(access), "Admin"); err != nil || got != "Welcome to the admin area, alice" {
		t.Errorf("Admin as alice: %q, %v", got, err)
	}
	_, err = call(with(bobAccess), "Admin")
	wantCode(err, codes.PermissionDenied, "Insufficient scope")

	out := new(structpb.Struct)
	if err := conn.Invoke(with(refresh), service+"Refresh", &emptypb.Empty{}, out); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	refreshed := out.GetFields()["access_token"].GetStringValue()
	if got, err := call(with(refreshed), "Hello"); err != nil || got != "Hello, alice" {
		t.Errorf("Hello with a refreshed token: %q, %v", got, err)
	}
	_, err = call(with(refreshed), "Admin")
	wantCode(err, codes.PermissionDenied, "Fresh token required")
	err = conn.Invoke(with(access), service+"Refresh", &emptypb.Empty{}, out)
	wantCode(err, codes.Unauthenticated, "Wrong token type")

	// The stream carries the caller to its handler.
	cs, err := conn.NewStream(with(access), &grpc.StreamDesc{ServerStreams: true}, service+"Countdown")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(wrapperspb.Int32(2)); err != nil {
		t.Fatal(err)
	}
	_ = cs.CloseSend()
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		if err := cs.RecvMsg(m); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		got = append(got, m.GetValue())
	}
	if strings.Join(got, "|") != "alice: 2|alice: 1" {
		t.Errorf("Countdown sent %q", got)
	}
	cs, err = conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, service+"Countdown")
	if err == nil {
		_ = cs.SendMsg(wrapperspb.Int32(2))
		_ = cs.CloseSend()
		err = cs.RecvMsg(new(wrapperspb.StringValue))
	}
	wantCode(err, codes.Unauthenticated, "")

	// DPoP: a Login with a proof gets a token bound to its key, taken
	// with a new proof by that key for each call, refused as a bearer
	// token, with a replayed proof, or with a proof for another method.
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	prover, err := dpop.NewProver(clientKey, jwt.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	proof := func(method, tok string) string {
		u, _ := url.Parse("http://" + p.Addr + service + method)
		pr, err := prover.Proof("POST", u, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	in, _ := structpb.NewStruct(map[string]any{"username": "alice", "password": "alice-pw"})
	out = new(structpb.Struct)
	if err := conn.Invoke(metadata.AppendToOutgoingContext(ctx, "dpop", proof("Login", "")), service+"Login", in, out); err != nil {
		t.Fatalf("login with a proof: %v", err)
	}
	bound := out.GetFields()["access_token"].GetStringValue()
	withDPoP := func(tok, proof string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "DPoP "+tok, "dpop", proof)
	}
	if got, err := call(withDPoP(bound, proof("Hello", bound)), "Hello"); err != nil || got != "Hello, alice (DPoP-bound token)" {
		t.Errorf("Hello with DPoP: %q, %v", got, err)
	}
	_, err = call(with(bound), "Hello")
	wantCode(err, codes.Unauthenticated, "bound to a DPoP key")
	replayed := proof("Hello", bound)
	if _, err := call(withDPoP(bound, replayed), "Hello"); err != nil {
		t.Errorf("Hello with DPoP: %v", err)
	}
	_, err = call(withDPoP(bound, replayed), "Hello")
	wantCode(err, codes.Unauthenticated, "Invalid DPoP proof")
	_, err = call(withDPoP(bound, proof("Admin", bound)), "Hello")
	wantCode(err, codes.Unauthenticated, "Invalid DPoP proof")
	err = conn.Invoke(metadata.AppendToOutgoingContext(ctx, "dpop", "not-a-proof"), service+"Login", in, out)
	wantCode(err, codes.Unauthenticated, "Invalid DPoP proof")

	// Health is public.
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v, %v", res, err)
	}

	// The log names calls and codes, never a token.
	if logs := p.Logs(); strings.Contains(logs, access) || !strings.Contains(logs, "code=PermissionDenied") {
		t.Errorf("logs:\n%s", logs)
	}

	// The client mode: credentials that log in, refresh and retry.
	t.Run("client", func(t *testing.T) {
		code, stdout, stderr := proctest.RunToExit(t, bin, nil, "-call", p.Addr, "-user", "alice", "-password", "alice-pw")
		want := "Hello: Hello, alice\n" +
			"Countdown: alice: 3, alice: 2, alice: 1\n" +
			"Admin: Welcome to the admin area, alice\n" +
			"Hello after refresh: Hello, alice\n" +
			"Admin after refresh: refused: PermissionDenied: Fresh token required\n"
		if code != 0 || stdout != want {
			t.Errorf("exit %d\n%s\nwant\n%s\nstderr: %s", code, stdout, want, stderr)
		}
		code, stdout, stderr = proctest.RunToExit(t, bin, nil, "-call", p.Addr, "-dpop")
		want = "Hello: Hello, alice (DPoP-bound token)\n" +
			"Hello with the token as a bearer token: Unauthenticated: Token is bound to a DPoP key: send it as 'Authorization: DPoP <token>' with a DPoP proof\n" +
			"Countdown: alice: 3, alice: 2, alice: 1\n" +
			"Admin: Welcome to the admin area, alice\n" +
			"Hello after refresh: Hello, alice (DPoP-bound token)\n" +
			"Admin after refresh: refused: PermissionDenied: Fresh token required\n"
		if code != 0 || stdout != want {
			t.Errorf("-dpop: exit %d\n%s\nwant\n%s\nstderr: %s", code, stdout, want, stderr)
		}
		code, stdout, _ = proctest.RunToExit(t, bin, nil, "-call", p.Addr, "-user", "bob", "-password", "bob-pw")
		if code != 0 || !strings.Contains(stdout, "Admin: refused: PermissionDenied: Insufficient scope") {
			t.Errorf("bob: exit %d\n%s", code, stdout)
		}
		code, _, stderr = proctest.RunToExit(t, bin, nil, "-call", p.Addr, "-user", "alice", "-password", "nope")
		if code != 1 || !strings.Contains(stderr, "Bad username or password") {
			t.Errorf("bad password: exit %d, %s", code, stderr)
		}
	})
}
