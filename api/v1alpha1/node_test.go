package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNodeID(t *testing.T) {
	assert.Equal(t, "default.gw-1", NodeID("default", "gw-1"))
	// Dots are allowed in both parts, which is why model rejects a second dataplane whose node id
	// collides with an earlier one.
	assert.Equal(t, NodeID("a.b", "c"), NodeID("a", "b.c"))
}
