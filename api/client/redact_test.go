package client

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Get and List return Secrets redacted; GetWith and ListWith with Reveal return the data, on
// every page of a listing.
func TestRevealSecrets(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	var docs []string
	for i := range 150 { // more than one of the server's default pages
		docs = append(docs, fmt.Sprintf("type: Secret\nname: s%03d\ndata: aGk=\n", i))
	}
	_, err := c.Apply(ctx, []byte(strings.Join(docs, "---\n")))
	require.NoError(t, err)

	res, err := c.Get(ctx, api.KindSecret, "default", "s000")
	require.NoError(t, err)
	assert.True(t, res.Redacted())
	assert.NotContains(t, string(res.Raw), "aGk=")
	_, err = res.Object()
	assert.ErrorContains(t, err, "Secret default/s000: its data is redacted")

	res, err = c.GetWith(ctx, api.KindSecret, "default", "s000", GetOptions{Reveal: true})
	require.NoError(t, err)
	assert.False(t, res.Redacted())
	obj, err := res.Object()
	require.NoError(t, err)
	assert.Equal(t, "aGk=", obj.(*api.Secret).Spec.Data)

	list, err := c.List(ctx, api.KindSecret, "")
	require.NoError(t, err)
	require.Len(t, list, 150)
	for _, r := range list {
		assert.True(t, r.Redacted(), r.Name)
	}
	list, err = c.ListWith(ctx, api.KindSecret, "default", GetOptions{Reveal: true})
	require.NoError(t, err)
	require.Len(t, list, 150)
	for _, r := range list {
		assert.False(t, r.Redacted(), r.Name)
		assert.Contains(t, string(r.Raw), `"data":"aGk="`, r.Name)
	}

	// Writing back what a redacted read returned is refused, with the reason.
	redacted, err := c.Get(ctx, api.KindSecret, "default", "s001")
	require.NoError(t, err)
	_, err = c.Apply(ctx, redacted.Raw)
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, wire.RedactedData)
}
