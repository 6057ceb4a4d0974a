package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// The files written in Config.CertDir: what gRPC's file_watcher certificate provider
// (certificate_file, private_key_file, ca_certificate_file, spiffe_trust_bundle_map_file)
// and most TLS stacks read.
const (
	SVIDFile      = "svid.pem"
	SVIDKeyFile   = "svid_key.pem"
	BundleFile    = "bundle.pem"
	BundleMapFile = "spiffe_bundle_map.json"
)

// writeFiles writes the identity's files into dir, each atomically (a temporary file in the
// same directory, synced, then renamed over the old one), so a reader sees the old file or the
// new one, never a part. Files whose content did not change are left alone. The key is written
// before the certificate: a reader that pairs them while they change sees a mismatch it
// retries (gRPC's file_watcher keeps its previous pair then), never a key older than its
// certificate for long. It reports whether anything changed.
func writeFiles(dir string, id *Identity) (bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("certificate directory: %w", err)
	}
	bundleMap, err := id.bundleMapJSON()
	if err != nil {
		return false, err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{SVIDKeyFile, id.KeyPEM, 0o600},
		{SVIDFile, id.ChainPEM, 0o644},
		{BundleFile, id.bundlePEM(), 0o644},
		{BundleMapFile, bundleMap, 0o644},
	}
	changed := false
	for _, f := range files {
		c, err := writeAtomic(filepath.Join(dir, f.name), f.data, f.mode)
		if err != nil {
			return changed, err
		}
		changed = changed || c
	}
	return changed, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if err := os.Chmod(path, mode); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	// CreateTemp makes it 0600: the key is never readable by others, even for a moment.
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}
