package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/cmd/jwtgate/server"
	"github.com/jwtgate/jwtgate/revoke"
)

// TestUsersEndRacesSignIn attacks the end of a password, or of a user,
// while the user signs in: two instances share PostgreSQL and Redis, a
// thief who knows the password signs in on instance B from several
// goroutines at once, again and again, while "jwtgate users passwd" (or
// "users delete") runs on the shared stores. Once the command has
// returned, no token any of those sign-ins got may still work: every
// access token is refused by both instances, every refresh token too,
// and each is revoked in the shared store (what resource servers that
// check revocation ask), including tokens an instance issued after the
// command's cutoff from a sign-in that had read the old password.
func TestUsersEndRacesSignIn(t *testing.T) {
	env := sharedStores(t)
	dir := t.TempDir()
	unused := filepath.Join(dir, "unused")
	args := []string{"-data-dir", unused, "-issuer", "https://auth.example", "-keys-reload", "1h", "-login-burst", "-1"}
	a := startServe(t, env, args...)
	b := startServe(t, env, args...)
	cfg := server.StoreConfig{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "JWTGATE_DATABASE_URL":
			cfg.DatabaseURL = v
		case "JWTGATE_REDIS":
			cfg.Redis = v
		case "JWTGATE_REDIS_PREFIX":
			cfg.RedisPrefix = v
		}
	}
	ctx := context.Background()
	st, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	type signIn struct {
		status          int
		access, refresh string
	}
	const rounds, thieves = 3, 4
	tests := []struct {
		name string
		// end returns the command that ends the password or user, and
		// its standard input.
		end func(user, next string) ([]string, string)
		// fresh says whether each round has a user of its own.
		fresh bool
	}{
		{"passwd", func(user, next string) ([]string, string) {
			return []string{"users", "passwd", user}, next + "\n"
		}, false},
		{"delete", func(user, _ string) ([]string, string) {
			return []string{"users", "delete", user}, ""
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var user string
			password := "first-password-0"
			for round := range rounds {
				if tt.fresh || round == 0 {
					user = fmt.Sprintf("race-%s-%d", tt.name, round)
					if r := runEnv(t, dir, env, password+"\n", "users", "add", user); r.code != 0 {
						t.Fatalf("users add %s: %d %s", user, r.code, r.stderr)
					}
				}
				next := fmt.Sprintf("next-password-%d", round+1)
				creds := `{"username":"` + user + `","password":"` + password + `"}`
				var (
					mu  sync.Mutex
					got []signIn
				)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for range thieves {
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							r, err := tryCall("POST", b.url+"/login", "", creds)
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							got = append(got, signIn{r.status, str(r, "access_token"), str(r, "refresh_token")})
							mu.Unlock()
						}
					})
				}
				// seen waits until a sign-in answered status among those
				// from the index from on (the machine's load sets how long
				// an argon2id check takes), and returns false if none did
				// in a minute.
				seen := func(status, from int) bool {
					for range 6000 {
						mu.Lock()
						for _, s := range got[min(from, len(got)):] {
							if s.status == status {
								mu.Unlock()
								return true
							}
						}
						mu.Unlock()
						time.Sleep(10 * time.Millisecond)
					}
					return false
				}
				if !seen(200, 0) { // sign-ins before the command too
					close(stop)
					wg.Wait()
					t.Fatalf("round %d: no sign-in succeeded before the command: %v", round, got)
				}
				cmd, stdin := tt.end(user, next)
				if r := runEnv(t, dir, env, stdin, cmd...); r.code != 0 {
					close(stop)
					wg.Wait()
					t.Fatalf("jwtgate %v: %d %s", cmd, r.code, r.stderr)
				}
				mu.Lock()
				returned := len(got)
				mu.Unlock()
				if !seen(401, returned) { // sign-ins after it returned
					close(stop)
					wg.Wait()
					t.Fatalf("round %d: no sign-in refused after the command returned", round)
				}
				close(stop)
				wg.Wait()
				if t.Failed() {
					t.FailNow()
				}

				cutoff, err := st.Revocations.SubjectCutoff(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				count := map[int]int{}
				afterCutoff := 0
				for _, s := range got {
					count[s.status]++
					if s.status != 200 {
						if s.status != 401 && s.status != 503 {
							t.Errorf("round %d: a sign-in answered %d, want 200, 401 or 503", round, s.status)
						}
						continue
					}
					claims := decodeClaims(t, s.access)
					iat, _ := claims["iat"].(float64)
					issued := time.UnixMilli(int64(math.Round(iat * 1000)))
					if issued.After(cutoff) {
						afterCutoff++
					}
					for _, tok := range []struct{ kind, token string }{{"access", s.access}, {"refresh", s.refresh}} {
						c := decodeClaims(t, tok.token)
						jti, _ := c["jti"].(string)
						sid, _ := c["sid"].(string)
						iat, _ := c["iat"].(float64)
						q := revoke.Query{JTI: jti, Subject: user, Family: sid, IssuedAt: time.UnixMilli(int64(math.Round(iat * 1000)))}
						revoked, err := revoke.CheckToken(ctx, st.Revocations, q)
						if err != nil {
							t.Fatal(err)
						}
						if !revoked {
							t.Errorf("round %d: a %s token issued %v after the command's cutoff is not revoked in the shared store",
								round, tok.kind, issued.Sub(cutoff).Round(time.Microsecond))
						}
					}
					for _, p := range []*proc{a, b} {
						if r := call(t, "GET", p.url+"/userinfo", s.access, ""); r.status != 401 {
							t.Errorf("round %d: an access token issued %v after the cutoff, on %s after the command: %d, want 401",
								round, issued.Sub(cutoff).Round(time.Microsecond), p.url, r.status)
						}
					}
					// One refresh per token and instance: the first to
					// work would rotate it.
					for _, p := range []*proc{a, b} {
						if r := call(t, "POST", p.url+"/refresh", s.refresh, ""); r.status != 401 {
							t.Errorf("round %d: a refresh token issued %v after the cutoff, on %s after the command: %d, want 401",
								round, issued.Sub(cutoff).Round(time.Microsecond), p.url, r.status)
						}
					}
				}
				t.Logf("round %d: sign-ins %v, %d tokens issued after the command's cutoff", round, count, afterCutoff)
				if count[200] == 0 || count[401] == 0 {
					t.Fatalf("round %d: want sign-ins before the command and refusals after it: %v", round, count)
				}
				password = next
				if tt.fresh {
					password = "first-password-0"
				}
			}
		})
	}
	a.stop(t)
	b.stop(t)
}
