package ca

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// decodeConf reads a backend's free-form `conf` into its typed form. Unknown fields are errors,
// as everywhere else in meshgate: a misspelt `RSAbits` must not silently give the default key.
// encoding/json matches names case-insensitively, so `rsabits` is read as `RSAbits`; that
// spelling means the same thing, so it is let through.
func decodeConf(conf map[string]any, into any) error {
	if len(conf) == 0 {
		return nil
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		return fmt.Errorf("conf: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("conf: %w", err)
	}
	return nil
}

// leafLifetime is the backend's dpCert.rotation.expiration, or the default.
func leafLifetime(b api.CABackend) (time.Duration, error) {
	if b.DpCert == nil || b.DpCert.Rotation == nil || b.DpCert.Rotation.Expiration == "" {
		return DefaultLeafLifetime, nil
	}
	d, err := api.ParseDuration(b.DpCert.Rotation.Expiration)
	if err != nil {
		return 0, fmt.Errorf("dpCert.rotation.expiration: %w", err)
	}
	if d <= 0 {
		return 0, errors.New("dpCert.rotation.expiration: must be a positive duration")
	}
	return d, nil
}
