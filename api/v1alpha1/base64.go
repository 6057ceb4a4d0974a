package v1alpha1

import (
	"encoding/base64"
	"errors"
)

// DecodeBase64 decodes bytes fields (Secret data, DataSource inline) the way protojson does:
// standard or URL alphabet, padded or not.
func DecodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

func validBase64(s string) bool {
	_, err := DecodeBase64(s)
	return err == nil
}
