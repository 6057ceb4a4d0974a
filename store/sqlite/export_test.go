package sqlite

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"
)

// BumpSchemaForTest records a schema version beyond the ones this binary knows.
func BumpSchemaForTest(t *testing.T, path string) {
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO schema_version (version, applied) VALUES (?, 0)`, len(migrations)+1)
	require.NoError(t, err)
}
