package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeLoginBurst: a real process with the default login budget (10
// failures): 20 right passwords sent at once from one address all get in;
// then 20 wrong ones sent at once get 10 × 401 and 10 × 429, after which
// the right password is refused too (the budget is spent).
func TestServeLoginBurst(t *testing.T) {
	p := startServe(t, nil, "-data-dir", filepath.Join(t.TempDir(), "data"))
	pw := logField(p.Logs(), "password", "username=admin")
	burst := func(password string) map[int]int {
		codes := make(chan int, 20)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				<-start
				resp, err := http.Post(p.url+"/login", "application/json",
					strings.NewReader(`{"username":"admin","password":"`+password+`"}`))
				if err != nil {
					t.Error(err)
					return
				}
				if resp.StatusCode == http.StatusServiceUnavailable {
					b, _ := io.ReadAll(resp.Body)
					t.Logf("503: %s", b)
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		close(codes)
		seen := map[int]int{}
		for c := range codes {
			seen[c]++
		}
		return seen
	}
	if seen := burst(pw); seen[200] != 20 {
		t.Fatalf("20 right passwords at once: %v, want 20 × 200", seen)
	}
	if seen := burst("wrong-password"); seen[401] != 10 || seen[429] != 10 {
		t.Fatalf("20 wrong passwords at once: %v, want 10 × 401 and 10 × 429", seen)
	}
	expect(t, "right password once the failures spent the budget",
		call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 429)
	p.stop(t)
	if strings.Contains(p.Logs(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", p.Logs())
	}
}

// TestServePasswordGuessing: a stolen (fresh) access token used to guess
// its user's current password at POST /account/password, with 12 guesses
// sent at once to two instances sharing Redis, under a budget of 3
// failures: 3 guesses are checked (400), the others refused unchecked
// (429), and the budget spent is the one sign-in spends, on both
// instances: the right password is refused too, at /account/password
// and at /login.
func TestServePasswordGuessing(t *testing.T) {
	env := sharedStores(t)
	args := []string{"-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-login-burst", "3"}
	a := startServe(t, env, args...)
	pw := logField(a.Logs(), "password", "username=admin")
	b := startServe(t, env, args...)
	instances := []*proc{a, b}
	creds := `{"username":"admin","password":"` + pw + `"}`
	stolen := str(expect(t, "login on A", call(t, "POST", a.url+"/login", "", creds), 200), "access_token")
	change := func(current string) string {
		return `{"current_password":"` + current + `","new_password":"a brand new passphrase"}`
	}
	const n = 12
	answers, err := raceRequests(n, func(i int) (answer, error) {
		return tryCall("POST", instances[i%2].url+"/account/password", stolen, change(fmt.Sprintf("guess number %d", i)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if count := statusCounts(answers); count[400] != 3 || count[429] != n-3 {
		t.Fatalf("%d wrong current passwords at once on two instances: %v, want 3 × 400 and %d × 429", n, count, n-3)
	}
	for _, r := range answers {
		if r.status == 400 && str(r, "error") != "invalid_grant" {
			t.Fatalf("a guess refused for another reason: %s", r.raw)
		}
	}
	expect(t, "the right current password on B, budget spent", call(t, "POST", b.url+"/account/password", stolen, change(pw)), 429)
	expect(t, "sign-in with the right password on A, budget spent", call(t, "POST", a.url+"/login", "", creds), 429)
	expect(t, "the stolen token, password unchanged", call(t, "GET", b.url+"/userinfo", stolen, ""), 200)
}

// TestServeLoginDroppedMidHash: a guesser that closes its connection
// while its password is being hashed still spends the budget: with a
// budget of 3 failures, kept in Redis, three guesses whose connections
// were dropped mid-hash leave the right password refused (429). A guess
// whose connection is dropped before its reservation is taken is not
// checked at all (the request ends 503, nothing is learnt); such a guess
// is sent again, dropped later.
func TestServeLoginDroppedMidHash(t *testing.T) {
	env := sharedStores(t)
	p := startServe(t, env, "-data-dir", filepath.Join(t.TempDir(), "unused"), "-issuer", "https://auth.example", "-login-burst", "3")
	pw := logField(p.Logs(), "password", "username=admin")
	host := strings.TrimPrefix(p.url, "http://")
	count := func(s string) int { return strings.Count(p.Logs(), s) }
	const checked, unchecked = `msg="login refused"`, "status=503"
	for i, after := 0, 2*time.Millisecond; i < 3; {
		body := fmt.Sprintf(`{"username":"admin","password":"dropped guess %d"}`, i)
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		before, lost := count(checked), count(unchecked)
		fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body)
		time.Sleep(after) // the reservation is taken and the hash started: it takes tens of ms
		// Nothing may have come back yet: the guess is dropped before its
		// answer.
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if n, _ := c.Read(make([]byte, 1)); n > 0 {
			t.Fatalf("guess %d was answered within %v, before its connection was dropped", i, after)
		}
		c.Close()
		for try := 0; count(checked) == before && count(unchecked) == lost; try++ {
			if try == 400 {
				t.Fatalf("guess %d, dropped after %v, neither checked nor refused:\n%s", i, after, p.Logs())
			}
			time.Sleep(25 * time.Millisecond)
		}
		if count(checked) > before {
			i++
			continue
		}
		if after *= 2; after > time.Second {
			t.Fatalf("guess %d was never hashed before its connection closed:\n%s", i, p.Logs())
		}
	}
	expect(t, "the right password after three guesses dropped mid-hash", call(t, "POST", p.url+"/login", "", `{"username":"admin","password":"`+pw+`"}`), 429)
}
