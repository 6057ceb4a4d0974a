package ir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestValidateDefaultHTTP2Windows(t *testing.T) {
	p := validProxy()
	p.Clusters[0].Protocol, p.Clusters[0].DefaultHTTP2Windows = ir.ClusterHTTP2, true
	require.NoError(t, p.Validate())

	p.Clusters[0].Protocol = ir.ClusterHTTP
	err := p.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `clusters[0].defaultHTTP2Windows: applies to http2 clusters only, not "http"`)
}
