package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testTimes(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	k := key("MeshGateway", "default", "gw")
	lo := time.Now().Add(-time.Second)
	first := mustPut(t, s, k)[0]
	hi := time.Now().Add(time.Second)
	assert.WithinRange(t, first.CreationTime, lo, hi)
	assert.Equal(t, first.CreationTime, first.ModificationTime, "a new record is created and modified at once")

	// Far above any timestamp resolution a backend may keep.
	time.Sleep(20 * time.Millisecond)
	second := mustPut(t, s, k)[0]
	assert.Equal(t, first.CreationTime, second.CreationTime, "creation time survives updates")
	assert.True(t, second.ModificationTime.After(first.ModificationTime), "modification time moves")

	got, err := s.Get(ctx, k)
	require.NoError(t, err)
	assert.True(t, got.CreationTime.Equal(first.CreationTime))
	assert.True(t, got.ModificationTime.Equal(second.ModificationTime))
}
