package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
