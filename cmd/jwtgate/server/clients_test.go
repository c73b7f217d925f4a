package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/revoke/sqlstore"
)

// TestSQLClients runs the client registry on SQLite and on PostgreSQL:
// add, find by id or name, update, secret rotation with and without
// grace, list and delete, with the errors of each.
func TestSQLClients(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *SQLClients
	}{
		{"sqlite", func(t *testing.T) *SQLClients {
			d, err := OpenDataDir(context.Background(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d.Clients
		}},
		{"postgres", func(t *testing.T) *SQLClients {
			db := openPG(t, needPostgres(t))
			c, err := newSQLClients(context.Background(), db, sqlstore.Postgres)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newSQLClients(context.Background(), db, sqlstore.Postgres); err != nil {
				t.Fatalf("second newSQLClients on the same table: %v", err)
			}
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cs := tc.open(t)
			secret, hash := NewClientSecret()
			a := &Client{Name: "a", SecretHash: hash, Scopes: []string{"read", "write"}, Audiences: []string{"https://api.example"}, TTL: time.Minute}
			if err := cs.Add(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := cs.Add(ctx, &Client{Name: "a", SecretHash: hash}); !errors.Is(err, ErrClientExists) {
				t.Fatalf("a second client named a: %v", err)
			}
			if err := cs.Add(ctx, &Client{Name: "bad", SecretHash: hash, Scopes: []string{"a b"}}); !errors.Is(err, ErrBadClient) {
				t.Fatalf("a bad scope: %v", err)
			}
			b := &Client{Name: "b", JWKSURI: "https://keys.example/jwks.json", Refresh: true}
			if err := cs.Add(ctx, b); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{a.ID, "a"} {
				got, err := cs.Find(ctx, key)
				if err != nil || got.ID != a.ID || !slices.Equal(got.Scopes, a.Scopes) || !slices.Equal(got.Audiences, a.Audiences) ||
					got.TTL != time.Minute || got.Refresh || got.Disabled || !got.CheckSecret(secret, time.Now()) {
					t.Fatalf("Find(%q) = %+v, %v", key, got, err)
				}
			}
			if _, err := cs.Find(ctx, "nobody"); !errors.Is(err, ErrClientNotFound) {
				t.Fatalf("Find of nobody: %v", err)
			}
			// A name that is another client's id finds that client first.
			c := &Client{Name: b.ID, SecretHash: hash}
			if err := cs.Add(ctx, c); err != nil {
				t.Fatal(err)
			}
			if got, err := cs.Find(ctx, b.ID); err != nil || got.ID != b.ID {
				t.Fatalf("Find by an id that is also a name: %+v, %v", got, err)
			}
			c.Name = "a"
			if err := cs.Update(ctx, c); !errors.Is(err, ErrClientExists) {
				t.Fatalf("renamed to a taken name: %v", err)
			}
			// Rotation with grace keeps the old secret until then.
			now := time.Now()
			next, err := cs.RotateSecret(ctx, a.ID, time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := cs.Client(ctx, a.ID)
			if err != nil || !got.CheckSecret(next, now) || !got.CheckSecret(secret, now.Add(59*time.Minute)) || got.CheckSecret(secret, now.Add(time.Hour)) {
				t.Fatalf("after rotation with grace: %+v, %v", got, err)
			}
			third, err := cs.RotateSecret(ctx, a.ID, 0, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ = cs.Client(ctx, a.ID)
			if !got.CheckSecret(third, now) || got.CheckSecret(next, now) || got.CheckSecret(secret, now) {
				t.Fatal("after rotation without grace, an old secret still works")
			}
			if _, err := cs.RotateSecret(ctx, "jc_NONE", 0, now); !errors.Is(err, ErrClientNotFound) {
				t.Fatalf("rotation of nobody: %v", err)
			}
			got.Disabled = true
			if err := cs.Update(ctx, got); err != nil {
				t.Fatal(err)
			}
			list, err := cs.List(ctx)
			if err != nil || len(list) != 3 || list[0].Name != "a" || !list[0].Disabled || list[1].Name != "b" || !list[1].Refresh {
				t.Fatalf("List = %v, %v", list, err)
			}
			if err := cs.Delete(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if err := cs.Delete(ctx, a.ID); !errors.Is(err, ErrClientNotFound) {
				t.Fatalf("second Delete: %v", err)
			}
			if _, ok, err := cs.Client(ctx, a.ID); ok || err != nil {
				t.Fatalf("deleted client found: %v %v", ok, err)
			}
		})
	}
}

// slowClients is a ClientStore that counts its lookups and answers each
// once release is closed.
type slowClients struct {
	calls   atomic.Int32
	release chan struct{}
}

func (s *slowClients) Client(ctx context.Context, id string) (*Client, bool, error) {
	s.calls.Add(1)
	<-s.release
	return &Client{ID: id, Name: "n", SecretHash: HashClientSecret("x")}, true, nil
}

// TestClientCacheOneLookup: requests that find a client's entry missing
// or expired at once make one store lookup between them, and the answer
// is kept for clientCacheTTL.
func TestClientCacheOneLookup(t *testing.T) {
	store := &slowClients{release: make(chan struct{})}
	now := time.Now()
	clock := func() time.Time { return now }
	cc := newClientCache(store, clock, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			e, err := cc.lookup(context.Background(), "jc_A")
			if err == nil && (e.c == nil || e.c.ID != "jc_A") {
				err = errors.New("wrong entry")
			}
			errs <- err
		})
	}
	for store.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The others wait for the first lookup (they may still be on their
	// way to it: they find either it or its answer).
	close(store.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
	if _, err := cc.lookup(context.Background(), "jc_A"); err != nil || store.calls.Load() != 1 {
		t.Errorf("a lookup within the TTL asked the store: %v, %d calls", err, store.calls.Load())
	}
	now = now.Add(clientCacheTTL)
	if _, err := cc.lookup(context.Background(), "jc_A"); err != nil || store.calls.Load() != 2 {
		t.Errorf("a lookup after the TTL did not ask the store: %v, %d calls", err, store.calls.Load())
	}
}
