package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations[i] brings the schema from version i to i+1. Append only: a released migration
// is never edited, because databases in the field have already run it.
var migrations = []string{
	`CREATE TABLE resources (
		kind     TEXT    NOT NULL,
		mesh     TEXT    NOT NULL,
		name     TEXT    NOT NULL,
		spec     BLOB    NOT NULL,
		origin   TEXT    NOT NULL,
		version  INTEGER NOT NULL,
		created  INTEGER NOT NULL,
		modified INTEGER NOT NULL,
		PRIMARY KEY (kind, mesh, name)
	) WITHOUT ROWID;
	CREATE TABLE state (
		key     TEXT    NOT NULL PRIMARY KEY,
		value   BLOB    NOT NULL,
		version INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE revision (
		id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
		value INTEGER NOT NULL
	);
	INSERT INTO revision (id, value) VALUES (1, 0);`,
	// Leases for work done once (lease.go); expires in Unix nanoseconds.
	`CREATE TABLE leases (
		name    TEXT    NOT NULL PRIMARY KEY,
		holder  TEXT    NOT NULL,
		fence   INTEGER NOT NULL,
		expires INTEGER NOT NULL
	) WITHOUT ROWID;`,
}

// migrate runs in one IMMEDIATE transaction so that two processes opening the same new file
// do not both try to create the schema.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary supports (%d)", current, len(migrations))
	}
	for v := current; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, ?)`,
			v+1, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("record migration %d: %w", v+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
