package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func testPersistence(t *testing.T, open Opener) {
	s := open(t)
	ctx := ctxFor(t)
	mustPut(t, s, key("Mesh", "", "default"), key("MeshGateway", "default", "gw"), key("MeshGateway", "default", "gone"))
	_, err := s.Apply(ctx, store.ApplyRequest{Deletes: []store.Delete{{Key: key("MeshGateway", "default", "gone")}}})
	require.NoError(t, err)
	stateV, err := s.PutState(ctx, "token/signing-key", []byte("secret"), -1)
	require.NoError(t, err)
	before, err := s.All(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = open(t)
	after, err := s.All(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "same records, versions, times and revision")
	value, v, err := s.GetState(ctx, "token/signing-key")
	require.NoError(t, err)
	assert.Equal(t, []byte("secret"), value)
	assert.Equal(t, stateV, v)

	ch, err := s.Watch(ctx)
	require.NoError(t, err)
	res, err := s.Apply(ctx, store.ApplyRequest{Puts: []store.Put{put(key("Mesh", "", "default"), "again", after.Records[0].Version)}})
	require.NoError(t, err, "versions from before the restart still match")
	assert.Equal(t, before.Revision+1, res.Revision, "the revision carries on")
	assert.Greater(t, res.Records[0].Version, after.Records[0].Version)
	assert.Equal(t, after.Records[0].CreationTime, res.Records[0].CreationTime)
	assert.Equal(t, res.Revision, receiveAtLeast(t, ch, res.Revision))
}
