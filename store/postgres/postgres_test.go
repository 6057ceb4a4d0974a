package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/postgres"
	"github.com/meshgate/meshgate/store/storetest"
)

// adminURL is the server the tests create their databases on. A missing server fails the
// tests rather than skipping them, so CI cannot pass without having run them.
func adminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MESHGATE_TEST_POSTGRES")
	if u != "" {
		return u
	}
	if os.Getenv("MESHGATE_SKIP_POSTGRES") == "1" {
		t.Skip("MESHGATE_SKIP_POSTGRES=1: PostgreSQL store tests skipped")
	}
	t.Fatal("MESHGATE_TEST_POSTGRES is not set. Start a throwaway PostgreSQL with\n" +
		"\texport MESHGATE_TEST_POSTGRES=$(.ci/postgres.sh start)\n" +
		"(stop it with .ci/postgres.sh stop), or set MESHGATE_SKIP_POSTGRES=1 to skip these tests.")
	return ""
}

// freshDatabase creates an empty database for t and drops it when t ends. It uses an ICU
// locale where the server has one, so a query that sorts by the database collation instead
// of byte order shows up as a failing list test.
func freshDatabase(t testing.TB) string {
	t.Helper()
	admin := adminURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(t, err, "connect to MESHGATE_TEST_POSTGRES")
	defer conn.Close(ctx)

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "meshgate_test_" + hex.EncodeToString(b)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`); err != nil {
		t.Logf("no ICU database (%v); using the server default locale", err)
		_, err = conn.Exec(ctx, `CREATE DATABASE `+ident)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})

	u, err := url.Parse(admin)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

func openStore(t testing.TB, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// opener gives each test its own database and reopens it when the same test asks again.
func opener() storetest.Opener {
	var (
		mu  sync.Mutex
		dbs = map[*testing.T]string{}
	)
	return func(t *testing.T) store.Store {
		mu.Lock()
		db, ok := dbs[t]
		mu.Unlock()
		if !ok {
			db = freshDatabase(t)
			mu.Lock()
			dbs[t] = db
			mu.Unlock()
		}
		return openStore(t, db)
	}
}

func TestContract(t *testing.T) {
	adminURL(t)
	storetest.Run(t, opener())
}

func mustApply(t *testing.T, s store.Store, k store.Key) store.ApplyResult {
	t.Helper()
	res, err := s.Apply(context.Background(), store.ApplyRequest{Puts: []store.Put{{Key: k, Spec: []byte(`{}`)}}})
	require.NoError(t, err)
	return res
}

func receiveAtLeast(t *testing.T, ch <-chan int64, want int64) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case rev, ok := <-ch:
			require.True(t, ok, "watch closed")
			if rev >= want {
				assert.Equal(t, want, rev)
				return
			}
		case <-deadline:
			require.FailNowf(t, "change not seen", "want revision %d", want)
		}
	}
}

// Another process's commit reaches this process's watchers through NOTIFY.
func TestWatchSeesOtherProcess(t *testing.T) {
	db := freshDatabase(t)
	a, b := openStore(t, db), openStore(t, db)
	ch, err := a.Watch(context.Background())
	require.NoError(t, err)
	for i := range 3 {
		res := mustApply(t, b, store.Key{Kind: "Mesh", Name: "m" + string(rune('0'+i))})
		receiveAtLeast(t, ch, res.Revision)
	}
}

func TestListenerReconnects(t *testing.T) {
	db := freshDatabase(t)
	a, b := openStore(t, db), openStore(t, db)
	ctx := context.Background()
	ch, err := a.Watch(ctx)
	require.NoError(t, err)

	admin, err := pgx.Connect(ctx, adminURL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	u, err := url.Parse(db)
	require.NoError(t, err)
	var killed int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'meshgate-listener'`, u.Path[1:]).Scan(&killed))
	require.Equal(t, 1, killed, "one listener connection")

	// Committed while the listener is (probably) down: the reconnect catches up.
	res := mustApply(t, b, store.Key{Kind: "Mesh", Name: "during"})
	receiveAtLeast(t, ch, res.Revision)
	// And notifications flow again on the new connection.
	res = mustApply(t, b, store.Key{Kind: "Mesh", Name: "after"})
	receiveAtLeast(t, ch, res.Revision)
}

// Two processes racing read-modify-write on one record lose no update: conflicts surface as
// ErrConflict (and Increment retries them).
func TestTwoProcessesNoLostUpdates(t *testing.T) {
	db := freshDatabase(t)
	a, b := openStore(t, db), openStore(t, db)
	ctx := context.Background()
	k := store.Key{Kind: "Counter", Name: "c"}
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			for range 15 {
				_, err := storetest.Increment(ctx, s, k)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	rec, err := a.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, "60", string(rec.Spec))
}

func TestConflictAcrossProcesses(t *testing.T) {
	db := freshDatabase(t)
	a, b := openStore(t, db), openStore(t, db)
	ctx := context.Background()
	k := store.Key{Kind: "Mesh", Name: "m"}
	v := mustApply(t, a, k).Records[0].Version

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []store.Store{a, b} {
		wg.Go(func() {
			_, errs[i] = s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: k, Spec: []byte(`{}`), ExpectedVersion: v}}})
		})
	}
	wg.Wait()
	if errs[0] == nil {
		require.ErrorIs(t, errs[1], store.ErrConflict)
	} else {
		require.ErrorIs(t, errs[0], store.ErrConflict)
		require.NoError(t, errs[1])
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	db := freshDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), db)
			if assert.NoError(t, err) {
				s.Close()
			}
		})
	}
	wg.Wait()
}

func TestNewerSchemaRefused(t *testing.T) {
	db := freshDatabase(t)
	openStore(t, db).Close()
	conn, err := pgx.Connect(context.Background(), db)
	require.NoError(t, err)
	_, err = conn.Exec(context.Background(), `INSERT INTO schema_version (version) VALUES (1000)`)
	require.NoError(t, err)
	conn.Close(context.Background())
	_, err = postgres.Open(context.Background(), db)
	require.ErrorContains(t, err, "newer than this binary supports")
}

func TestOpenErrors(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.Error(t, err)
	_, err = postgres.Open(context.Background(), "postgres://%zz")
	require.Error(t, err)
}

func BenchmarkApply(b *testing.B) {
	storetest.BenchmarkApply(b, openStore(b, freshDatabase(b)))
}
