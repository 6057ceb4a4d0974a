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

func TestSplitNodeID(t *testing.T) {
	mesh, name, ok := SplitNodeID(NodeID("default", "gw.1"))
	assert.True(t, ok)
	assert.Equal(t, []string{"default", "gw.1"}, []string{mesh, name}, "the first dot separates: dataplane names may hold dots")
	_, _, ok = SplitNodeID("nodot")
	assert.False(t, ok)
}
