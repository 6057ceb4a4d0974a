package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// bearerCases: want is the token, "" for a refusal.
var bearerCases = []struct {
	Header, Want string
}{
	{"Bearer s3cret", "s3cret"},
	{"bearer s3cret", "s3cret"},
	{"BEARER s3cret", "s3cret"},
	{"bEaReR s3cret", "s3cret"},
	{"Bearer    s3cret", "s3cret"},
	{"Bearer\ts3cret", "s3cret"},
	{"  Bearer s3cret  ", "s3cret"},
	{"Bearer a passphrase", "a passphrase"},
	{"", ""},
	{"Bearer", ""},
	{"Bearer ", ""},
	{"Bearer    ", ""},
	{"Bearers3cret", ""},
	{"Basic czNjcmV0", ""},
	{"s3cret", ""},
	{"Token s3cret", ""},
	{"Bearer- s3cret", ""},
}

func TestBearerToken(t *testing.T) {
	for _, c := range bearerCases {
		got, ok := BearerToken(c.Header)
		assert.Equal(t, c.Want, got, "%q", c.Header)
		assert.Equal(t, c.Want != "", ok, "%q", c.Header)
	}
}
