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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/jwtgate/jwtgate/internal/services"
	"github.com/jwtgate/jwtgate/jwk"
	"github.com/jwtgate/jwtgate/jwt"
	"github.com/jwtgate/jwtgate/revoke/redisstore/redistest"
	"github.com/jwtgate/jwtgate/revoke/sqlstore"
	"github.com/jwtgate/jwtgate/revoke/sqlstore/postgres/pgtest"
)

// needPostgres returns the connection string of a schema of its own in the
// test database (dropped when the test ends), or fails (with
// JWTGATE_REQUIRE_SERVICES=1) or skips when PostgreSQL cannot be reached.
func needPostgres(t testing.TB) string {
	t.Helper()
	dsn, err := postgresSchema(t)
	if err != nil {
		services.Unreachable(t, "PostgreSQL", err)
	}
	return dsn
}

// tryPostgres is needPostgres for a test that runs without PostgreSQL
// too: false, logged, when PostgreSQL cannot be reached (unless
// JWTGATE_REQUIRE_SERVICES=1: then the test fails).
func tryPostgres(t testing.TB) (string, bool) {
	t.Helper()
	dsn, err := postgresSchema(t)
	if err != nil {
		if services.Required() {
			services.Unreachable(t, "PostgreSQL", err)
		}
		t.Logf("PostgreSQL unreachable, left out (set JWTGATE_REQUIRE_SERVICES=1 to fail instead): %v", err)
		return "", false
	}
	return dsn, true
}

// postgresSchema returns the connection string of a schema of its own in
// the test database (dropped when the test ends), or the error of a
// PostgreSQL that cannot be reached.
func postgresSchema(t testing.TB) (string, error) {
	t.Helper()
	ctx := context.Background()
	db, err := OpenPostgres(ctx, pgtest.PostgresDSN())
	if err != nil {
		return "", err
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
	u, err := url.Parse(pgtest.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func openPG(t testing.TB, dsn string) *sql.DB {
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
	u, err := newSQLUsers(ctx, db, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSQLUsers(ctx, db, sqlstore.Postgres); err != nil {
		t.Fatalf("second newSQLUsers on the same tables: %v", err)
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
	if _, err := newSQLUsers(ctx, db, sqlstore.Dialect(9)); err == nil {
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
	if _, _, err := ks.RotateKey(ctx, Rotation{RetireAfter: time.Hour}, now); err == nil {
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
			kids[i] = k.Keys[k.signer(now)].Key.ID()
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

	// Rotation: the new key is published at once and signs from its
	// activation time; the old key verifies until an hour after that.
	for _, bad := range []Rotation{{Alg: jwt.HS256}, {Alg: "none"}, {ActivateAfter: -time.Second}} {
		if _, _, err := ks.RotateKey(ctx, bad, now); err == nil {
			t.Fatalf("rotation %+v accepted", bad)
		}
	}
	const activate = 10 * time.Minute
	oldKID, newKID, err := ks.RotateKey(ctx, Rotation{ActivateAfter: activate, RetireAfter: time.Hour}, now)
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
	signerAt := func(keys Keys, at time.Time) string { return keys.Keys[keys.signer(at)].Key.ID() }
	if len(keys.Keys) != 2 || keys.Keys[0].Key.ID() != oldKID || keys.Keys[1].Key.ID() != newKID || keys.Keys[1].Alg != jwt.ES256 {
		t.Fatalf("after rotation: %+v", keys.Keys)
	}
	if got := signerAt(keys, now); got != oldKID {
		t.Fatalf("signer before the activation: %s, want %s", got, oldKID)
	}
	if got := signerAt(keys, now.Add(activate)); got != newKID {
		t.Fatalf("signer at the activation: %s, want %s", got, newKID)
	}
	for _, c := range []struct {
		got, want time.Time
	}{{keys.Keys[1].ActivateAt, now.Add(activate)}, {keys.Keys[0].RetireAt, now.Add(activate + time.Hour)}} {
		if d := c.got.Sub(c.want); d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("time off by %v", d)
		}
	}
	later, err := ks.LoadKeys(ctx, jwt.ES256, now.Add(2*time.Hour))
	if err != nil || len(later.Keys) != 1 || signerAt(later, now.Add(2*time.Hour)) != newKID {
		t.Fatalf("after the retire time: %v, %v", later, err)
	}

	// A ring of the loaded keys publishes both and switches signer at the
	// activation time, and a rotation after the retire time deletes the
	// retired private key. It may change the algorithm: the keys before
	// keep theirs.
	clock := now
	ring, err := keys.Ring(func() time.Time { return clock })
	if err != nil || len(ring.KeyIDs()) != 2 || ring.SigningKey().ID() != oldKID {
		t.Fatalf("ring: %v %v", ring, err)
	}
	clock = now.Add(activate)
	if ring.SigningKey().ID() != newKID {
		t.Fatal("the ring did not switch signer at the activation time")
	}
	_, third, err := ks.RotateKey(ctx, Rotation{Alg: jwt.EdDSA, RetireAfter: time.Hour}, now.Add(2*time.Hour))
	if err != nil || third == newKID {
		t.Fatalf("third rotation: %v", err)
	}
	db.QueryRowContext(ctx, `SELECT count(*) FROM jwtgate_signing_keys WHERE kid = $1`, oldKID).Scan(&count)
	if count != 0 {
		t.Fatal("a retired private key was kept")
	}
	keys, err = ks.LoadKeys(ctx, jwt.ES256, now.Add(2*time.Hour))
	if err != nil || len(keys.Keys) != 2 || keys.Keys[0].Alg != jwt.ES256 || keys.Keys[1].Alg != jwt.EdDSA ||
		signerAt(keys, now.Add(2*time.Hour)) != third {
		t.Fatalf("after a rotation to EdDSA: %+v %v", keys, err)
	}

	// A damaged row is an error naming the key, not a panic.
	if _, err := db.ExecContext(ctx, `UPDATE jwtgate_signing_keys SET private_key = 'garbage' WHERE retire_ms IS NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.LoadKeys(ctx, jwt.ES256, now.Add(2*time.Hour)); err == nil {
		t.Fatal("a damaged key loaded")
	}
}

// TestSQLKeysMigration opens a key table made before keys had activation
// times: the column is added, and the keys in it are active.
func TestSQLKeysMigration(t *testing.T) {
	ctx := context.Background()
	db := openPG(t, needPostgres(t))
	if _, err := db.ExecContext(ctx, `CREATE TABLE jwtgate_signing_keys (
		kid TEXT PRIMARY KEY, alg TEXT NOT NULL, private_key TEXT NOT NULL,
		created_ms BIGINT NOT NULL, retire_ms BIGINT)`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var kids []string
	for i := range 2 {
		key, err := jwk.Generate(jwt.ES256, 0)
		if err != nil {
			t.Fatal(err)
		}
		if key, err = jwk.EnsureKeyID(key); err != nil {
			t.Fatal(err)
		}
		pemData, err := jwk.MarshalPrivatePEM(key)
		if err != nil {
			t.Fatal(err)
		}
		var retire sql.NullInt64
		if i == 0 {
			retire = sql.NullInt64{Int64: now.Add(time.Hour).UnixMilli(), Valid: true}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO jwtgate_signing_keys VALUES ($1, 'ES256', $2, $3, $4)`,
			key.ID(), string(pemData), now.Add(time.Duration(i-2)*time.Minute).UnixMilli(), retire); err != nil {
			t.Fatal(err)
		}
		kids = append(kids, key.ID())
	}
	ks, err := NewSQLKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ks.LoadKeys(ctx, jwt.ES256, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 2 || keys.Keys[keys.signer(now)].Key.ID() != kids[1] || !keys.Keys[1].ActivateAt.IsZero() {
		t.Fatalf("migrated keys: %+v, want %v with %s signing", keys.Keys, kids, kids[1])
	}
	// Opening it again (another instance) changes nothing.
	if _, err := NewSQLKeys(ctx, db); err != nil {
		t.Fatal(err)
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
	if _, _, err := a.RotateKey(ctx, Rotation{RetireAfter: time.Hour}, clock()); err != nil {
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

	// A rotation with an activation delay: B publishes the key at its
	// reload and keeps signing with the current one; at the activation
	// time it switches by itself, and so does A, which learns of the key
	// when a token of it arrives.
	_, third, err := a.RotateKey(ctx, Rotation{Alg: jwt.ES384, ActivateAfter: time.Minute, RetireAfter: time.Hour}, clock())
	if err != nil {
		t.Fatal(err)
	}
	if err := liveB.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := liveB.Ring().KeyIDs(); !slices.Contains(ids, third) || liveB.SigningKey().ID() != second || liveB.Algorithm() != jwt.ES256 {
		t.Fatalf("B after the reload: keys %v, signer %s %s; want %s published, %s signing", ids, liveB.SigningKey().ID(), liveB.Algorithm(), third, second)
	}
	advance(time.Minute)
	if liveB.SigningKey().ID() != third || liveB.Algorithm() != jwt.ES384 {
		t.Fatalf("B at the activation time signs with %s %s, want %s ES384", liveB.SigningKey().ID(), liveB.Algorithm(), third)
	}
	if _, err := liveA.LookupKeys(ctx, &jwt.Header{Alg: jwt.ES384, KeyID: third}); err != nil || liveA.SigningKey().ID() != third {
		t.Fatalf("A meeting a token of the new key: %v, signer %s", err, liveA.SigningKey().ID())
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
	redistest.Redis(t, rueidis.ClientOption{})
	redis := redistest.RedisAddr()
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

// TestSQLKeysOpenBesideReader: opening the key store of a table that is
// up to date takes no lock that waits for readers (an ALTER TABLE would
// wait for every open transaction that read the table, and block the
// reads of every instance behind it).
func TestSQLKeysOpenBesideReader(t *testing.T) {
	ctx := context.Background()
	db := openPG(t, needPostgres(t))
	if _, err := NewSQLKeys(ctx, db); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT count(*) FROM jwtgate_signing_keys`); err != nil {
		t.Fatal(err)
	}
	// A generous deadline: opening must not wait for the reader at all.
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := NewSQLKeys(octx, db); err != nil {
		t.Fatalf("opening beside a reader: %v", err)
	}
}

// TestOpenStoresAtOnce: instances started at once on a PostgreSQL
// database without jwtgate's tables all open their stores (the first
// start of a deployment with several replicas). Concurrent CREATE TABLE
// IF NOT EXISTS of one table fail in PostgreSQL rather than wait.
func TestOpenStoresAtOnce(t *testing.T) {
	ctx := context.Background()
	for round := range 3 {
		dsn := needPostgres(t)
		const n = 6
		errs := make(chan error, n)
		for range n {
			go func() {
				st, err := Open(ctx, StoreConfig{DatabaseURL: dsn})
				if err == nil {
					err = st.Bootstrap(ctx, slog.New(slog.DiscardHandler))
					st.Close()
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %d instances opened at once on new tables: %v", round, n, err)
			}
		}
	}
}
