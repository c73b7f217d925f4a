package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/storetest"
)

// needPostgres returns the connection string of a schema of its own in the
// test database (dropped when the test ends), or fails (with
// JWTGATE_REQUIRE_SERVICES=1) or skips when PostgreSQL cannot be reached.
func needPostgres(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	db, err := OpenPostgres(ctx, storetest.PostgresDSN())
	if err != nil {
		storetest.Unreachable(t, "PostgreSQL", err)
	}
	schema := "jwtgate_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	})
	u, err := url.Parse(storetest.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPG(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLUsersPostgres(t *testing.T) {
	ctx := context.Background()
	db := openPG(t, needPostgres(t))
	u, err := NewSQLUsers(ctx, db, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSQLUsers(ctx, db, sqlstore.Postgres); err != nil {
		t.Fatalf("second NewSQLUsers on the same tables: %v", err)
	}
	if n, err := u.Count(ctx); err != nil || n != 0 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if err := u.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "alice", "zoë"} {
		if err := u.Add(ctx, name, "password-"+name); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.Add(ctx, "alice", "another password"); !errors.Is(err, ErrUserExists) {
		t.Fatalf("Add twice: %v", err)
	}
	if err := u.Add(ctx, " padded", "a password"); !errors.Is(err, ErrBadUsername) {
		t.Fatalf("Add bad name: %v", err)
	}
	names, err := u.List(ctx)
	if err != nil || strings.Join(names, ",") != "alice,bob,zoë" {
		t.Fatalf("List = %q, %v", names, err)
	}
	h, ok, err := u.PasswordHash(ctx, "alice")
	if err != nil || !ok {
		t.Fatalf("PasswordHash: %v %v", ok, err)
	}
	if m, err := VerifyPassword(h, "password-alice"); err != nil || !m {
		t.Fatalf("stored hash does not verify: %v %v", m, err)
	}
	if err := u.SetPassword(ctx, "alice", "new password"); err != nil {
		t.Fatal(err)
	}
	h, _, _ = u.PasswordHash(ctx, "alice")
	if m, _ := VerifyPassword(h, "new password"); !m {
		t.Fatal("SetPassword did not change the hash")
	}
	if err := u.SetPassword(ctx, "nobody", "a password"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("SetPassword of a missing user: %v", err)
	}
	if err := u.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := u.Delete(ctx, "bob"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	if ok, err := u.Exists(ctx, "bob"); err != nil || ok {
		t.Fatalf("Exists(deleted) = %v, %v", ok, err)
	}
	if _, err := NewSQLUsers(ctx, db, sqlstore.Dialect(9)); err == nil {
		t.Fatal("unknown dialect accepted")
	}
}

func TestSQLKeys(t *testing.T) {
	ctx := context.Background()
	dsn := needPostgres(t)
	db := openPG(t, dsn)
	ks, err := NewSQLKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, err := ks.RotateKey(ctx, "", time.Hour, now); err == nil {
		t.Fatal("rotation of an empty store accepted")
	}
	if _, err := ks.LoadKeys(ctx, "HS256", now); err == nil {
		t.Fatal("HS256 signer created")
	}

	// Instances starting at once on an empty table agree on one signer.
	const n = 6
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			other, err := NewSQLKeys(ctx, openPG(t, dsn))
			if err != nil {
				t.Error(err)
				return
			}
			k, err := other.LoadKeys(ctx, jwt.ES256, now)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = k.Signer.ID()
		})
	}
	wg.Wait()
	for _, k := range kids {
		if k != kids[0] {
			t.Fatalf("concurrent first starts made different signers: %q", kids)
		}
	}
	var count int
	db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_signing_keys`).Scan(&count)
	if count != 1 {
		t.Fatalf("%d keys stored, want 1", count)
	}

	// Rotation: the old key verifies until its retire time.
	if _, _, err := ks.RotateKey(ctx, jwt.EdDSA, time.Hour, now); err == nil {
		t.Fatal("rotation to another algorithm accepted")
	}
	oldKID, newKID, err := ks.RotateKey(ctx, "", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if oldKID != kids[0] || newKID == oldKID {
		t.Fatalf("RotateKey = %s, %s; first signer %s", oldKID, newKID, kids[0])
	}
	keys, err := ks.LoadKeys(ctx, jwt.ES384, now) // alg is only for a first key
	if err != nil {
		t.Fatal(err)
	}
	if keys.Signer.ID() != newKID || keys.Algorithm != jwt.ES256 || len(keys.Retiring) != 1 || keys.Retiring[0].Key.ID() != oldKID {
		t.Fatalf("after rotation: signer %s %s, retiring %v", keys.Signer.ID(), keys.Algorithm, keys.Retiring)
	}
	if d := keys.Retiring[0].RetireAt.Sub(now.Add(time.Hour)); d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("retire time off by %v", d)
	}
	later, err := ks.LoadKeys(ctx, jwt.ES256, now.Add(2*time.Hour))
	if err != nil || later.Signer.ID() != newKID || len(later.Retiring) != 0 {
		t.Fatalf("after the retire time: %v, %v", later, err)
	}

	// A token signed with the old key still verifies through a ring of
	// the loaded keys, and a rotation after the retire time deletes the
	// retired private key.
	ring, err := keys.Ring(func() time.Time { return now })
	if err != nil || len(ring.KeyIDs()) != 2 {
		t.Fatalf("ring: %v %v", ring, err)
	}
	if _, third, err := ks.RotateKey(ctx, "", 0, now.Add(2*time.Hour)); err != nil || third == newKID {
		t.Fatalf("third rotation: %v", err)
	}
	db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_signing_keys WHERE kid = $1`, oldKID).Scan(&count)
	if count != 0 {
		t.Fatal("a retired private key was kept")
	}

	// A damaged row is an error naming the key, not a panic.
	if _, err := db.ExecContext(ctx, `UPDATE jwtgate_signing_keys SET private_key = 'garbage' WHERE retire_ms IS NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.LoadKeys(ctx, jwt.ES256, now.Add(2*time.Hour)); err == nil {
		t.Fatal("a damaged key loaded")
	}
}

// TestLiveKeys follows a rotation made by another instance: a token
// signed with a key this instance has not loaded yet makes it reload, and
// Reload makes it sign with the new key.
func TestLiveKeys(t *testing.T) {
	ctx := context.Background()
	dsn := needPostgres(t)
	a, err := NewSQLKeys(ctx, openPG(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSQLKeys(ctx, openPG(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	liveA, err := NewLiveKeys(ctx, a, jwt.ES256, LiveKeysOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	liveB, err := NewLiveKeys(ctx, b, jwt.ES256, LiveKeysOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if liveA.SigningKey().ID() != liveB.SigningKey().ID() || liveA.Algorithm() != jwt.ES256 {
		t.Fatal("two instances on one store have different signers")
	}
	first := liveA.SigningKey().ID()
	if _, _, err := a.RotateKey(ctx, "", time.Hour, clock()); err != nil {
		t.Fatal(err)
	}
	if err := liveA.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	second := liveA.SigningKey().ID()
	if second == first {
		t.Fatal("Reload did not pick up the new signer")
	}
	if liveB.SigningKey().ID() != first {
		t.Fatal("B changed without a reload")
	}
	// B meets a token of the new key: one reload, then it verifies.
	if _, err := liveB.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: second}); err != nil {
		t.Fatalf("B cannot find the new key: %v", err)
	}
	if liveB.SigningKey().ID() != second {
		t.Fatal("B's reload did not switch its signer")
	}
	// Unknown kids reload at most once per MinReload.
	var queries int
	counted := &countingStore{KeyStore: b, n: &queries}
	liveC, err := NewLiveKeys(ctx, counted, jwt.ES256, LiveKeysOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		_, err := liveC.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: fmt.Sprint("made-up-", i)})
		if !errors.Is(err, jwt.ErrKeyNotFound) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if queries != 2 {
		t.Fatalf("%d loads for the first start and 50 made-up kids in the same instant, want 2", queries)
	}
	advance(2 * time.Second)
	liveC.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: "made-up"})
	if queries != 3 {
		t.Fatalf("%d loads after MinReload, want 3", queries)
	}
	// The old key keeps verifying until its retire time, then drops out.
	if _, err := liveB.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: first}); err != nil {
		t.Fatalf("the retiring key no longer verifies: %v", err)
	}
	advance(2 * time.Hour)
	if _, err := liveB.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES256, KeyID: first}); !errors.Is(err, jwt.ErrKeyNotFound) {
		t.Fatalf("the retired key still verifies: %v", err)
	}
}

type countingStore struct {
	KeyStore
	n *int
}

func (c *countingStore) LoadKeys(ctx context.Context, alg jwt.Algorithm, now time.Time) (Keys, error) {
	*c.n++
	return c.KeyStore.LoadKeys(ctx, alg, now)
}

// TestOpenStores opens each combination of stores and checks what is
// shared where, and that bad settings are clear errors.
func TestOpenStores(t *testing.T) {
	ctx := context.Background()
	dsn := needPostgres(t)
	storetest.Redis(t, rueidis.ClientOption{})
	redis := storetest.RedisAddr()
	for _, tc := range []struct {
		name  string
		cfg   StoreConfig
		where string
	}{
		{"data directory", StoreConfig{DataDir: t.TempDir()}, "data directory"},
		{"postgres", StoreConfig{DataDir: "unused", DatabaseURL: dsn}, "PostgreSQL"},
		{"postgres and redis", StoreConfig{DatabaseURL: dsn, Redis: redis, RedisPrefix: "jwtgate-test-" + rand.Text() + ":"}, "PostgreSQL + Redis"},
		{"redis URL", StoreConfig{DataDir: t.TempDir(), Redis: "redis://" + redis + "/0"}, "Redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Open(ctx, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !strings.Contains(st.Where, tc.where) {
				t.Fatalf("Where = %q, want %q", st.Where, tc.where)
			}
			if (tc.cfg.Redis != "") != (st.Redis != nil) {
				t.Fatalf("Redis client: %v", st.Redis)
			}
			if err := st.Bootstrap(ctx, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Keys.LoadKeys(ctx, jwt.ES256, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := st.EndSessions(ctx, "admin", time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat("unused"); err == nil {
				t.Fatal("the data directory was created with a database URL")
			}
		})
	}
	for _, tc := range []struct {
		name string
		cfg  StoreConfig
		want string
	}{
		{"nothing", StoreConfig{}, "no data directory"},
		{"postgres down", StoreConfig{DatabaseURL: "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2"}, "PostgreSQL"},
		{"bad redis address", StoreConfig{DataDir: t.TempDir(), Redis: "no-port"}, "host:port"},
		{"redis down", StoreConfig{DataDir: t.TempDir(), Redis: "127.0.0.1:1"}, "Redis"},
		{"bad redis URL", StoreConfig{DataDir: t.TempDir(), Redis: "http://x:y@z"}, "Redis"},
		{"redis URL with a # in the password", StoreConfig{DataDir: t.TempDir(), Redis: "redis://default:hunter2#x@127.0.0.1:6379"}, "Redis URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Open(ctx, tc.cfg)
			if err == nil {
				st.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q: want %q and no password", err, tc.want)
			}
		})
	}
}
