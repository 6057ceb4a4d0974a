package certs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

func TestBundle(t *testing.T) {
	a := certstest.NewRoot(t, "a")
	b := certstest.NewRoot(t, "b")
	bundle, err := certs.NewBundle("default", a.Cert, b.Cert, a.Cert)
	require.NoError(t, err)
	assert.Equal(t, "default", bundle.TrustDomain().Name())
	assert.Len(t, bundle.X509Authorities(), 2, "duplicates dropped")

	pemBytes, err := certs.BundlePEM(bundle)
	require.NoError(t, err)
	back, err := certs.ParseBundle("default", pemBytes)
	require.NoError(t, err)
	assert.True(t, bundle.Equal(back))

	sb := certs.SPIFFEBundle(bundle)
	assert.Equal(t, "default", sb.TrustDomain().Name())
	assert.Len(t, sb.X509Authorities(), 2)

	_, err = certs.NewBundle("Bad Mesh")
	require.ErrorContains(t, err, "trust domain")
	_, err = certs.ParseBundle("default", []byte("garbage"))
	require.ErrorContains(t, err, `parse bundle of mesh "default"`)
}
