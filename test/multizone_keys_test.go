package test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/meshgate/meshgate/store/sqlite"
)

// privateKeysMatching counts the PEM private keys in a control plane's embedded store (its
// state table, where CA and token keys live) whose public half is pub. The store is read as a
// file, so what it holds is checked, not what the control plane chooses to tell.
func privateKeysMatching(t *testing.T, dataDir string, pub crypto.PublicKey) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, sqlite.FileName)+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT key, value FROM state`)
	require.NoError(t, err)
	defer rows.Close()
	n, keys := 0, 0
	for rows.Next() {
		var key string
		var value []byte
		require.NoError(t, rows.Scan(&key, &value))
		// Values are PEM or JSON holding PEM (escaped newlines): find every key block.
		value = bytes.ReplaceAll(value, []byte(`\n`), []byte("\n"))
		for rest := value; ; {
			i := bytes.Index(rest, []byte("-----BEGIN "))
			if i < 0 {
				break
			}
			var block *pem.Block
			block, rest = pem.Decode(rest[i:])
			if block == nil {
				break
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				if ec, err2 := x509.ParseECPrivateKey(block.Bytes); err2 == nil {
					k, err = ec, nil
				}
			}
			if err != nil {
				continue // a certificate, not a key
			}
			keys++
			if signer, ok := k.(crypto.Signer); ok {
				if eq, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub) {
					n++
				}
			}
		}
	}
	require.NoError(t, rows.Err())
	require.Positive(t, keys, "%s holds no private key at all: the scan reads nothing", dataDir)
	return n
}
