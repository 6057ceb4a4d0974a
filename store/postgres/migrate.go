package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations[i] brings the schema from version i to i+1. Append only: a released migration
// is never edited, because databases in the field have already run it.
//
// Text keys use COLLATE "C" so listings come back in byte order whatever the database's
// locale, the same order SQLite gives; spec is BYTEA, not JSONB, so the stored JSON comes
// back byte for byte.
var migrations = []string{
	`CREATE TABLE resources (
		kind     TEXT COLLATE "C" NOT NULL,
		mesh     TEXT COLLATE "C" NOT NULL,
		name     TEXT COLLATE "C" NOT NULL,
		spec     BYTEA            NOT NULL,
		origin   TEXT             NOT NULL,
		version  BIGINT           NOT NULL,
		created  TIMESTAMPTZ      NOT NULL,
		modified TIMESTAMPTZ      NOT NULL,
		PRIMARY KEY (kind, mesh, name)
	);
	CREATE TABLE state (
		key     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
		value   BYTEA            NOT NULL,
		version BIGINT           NOT NULL
	);
	CREATE TABLE revision (
		id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
		value BIGINT  NOT NULL
	);
	INSERT INTO revision (id, value) VALUES (1, 0);`,
	// Leases for work done once among replicas (lease.go). expires is by the server's clock.
	`CREATE TABLE leases (
		name    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
		holder  TEXT             NOT NULL,
		fence   BIGINT           NOT NULL,
		expires TIMESTAMPTZ      NOT NULL
	);`,
}

// migrationLock is the advisory lock key that keeps two control planes starting at once from
// migrating the same database concurrently.
const migrationLock = 0x6d657368_67617465 // "meshgate"

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER     NOT NULL PRIMARY KEY,
		applied TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary supports (%d)", current, len(migrations))
	}
	for v := current; v < len(migrations); v++ {
		// No arguments: pgx sends it with the simple protocol, which allows several statements.
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
			return fmt.Errorf("record migration %d: %w", v+1, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
