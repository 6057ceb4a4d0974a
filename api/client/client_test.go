package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/rest"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store/sqlite"
)

const token = "t0ken"

// newServer runs the real handler over the embedded store on 127.0.0.1.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meshgate.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	view := func(_ context.Context, mesh, name string) (any, error) {
		return map[string]string{"dataplane": mesh + "/" + name}, nil
	}
	srv := httptest.NewServer(rest.NewHandler(rest.Options{Store: st, AdminToken: token, Render: view, Inspect: view}))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(newServer(t).URL+"/", token)
	require.NoError(t, err)
	return c
}

func TestNewRejectsBadAddresses(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:5681", "ftp://x", "http://", "::"} {
		_, err := New(addr, "")
		assert.Error(t, err, addr)
	}
}

func TestApplyGetListDelete(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	results, err := c.Apply(ctx, []byte("type: Mesh\nname: m1\n---\ntype: Secret\nmesh: m1\nname: s\ndata: aGk=\n"))
	require.NoError(t, err)
	require.Len(t, results, 2)
	assert.Equal(t, "created", results[1].Status)

	res, err := c.GetWith(ctx, api.KindSecret, "m1", "s", GetOptions{Reveal: true})
	require.NoError(t, err)
	assert.Equal(t, "Secret m1/s", res.DisplayName())
	assert.Equal(t, results[1].Version, res.Version)
	assert.False(t, res.CreationTime.IsZero())
	obj, err := res.Object()
	require.NoError(t, err)
	assert.Equal(t, "aGk=", obj.(*api.Secret).Spec.Data)

	mesh, err := c.Get(ctx, api.KindMesh, "ignored", "m1")
	require.NoError(t, err)
	assert.Equal(t, "Mesh m1", mesh.DisplayName())

	_, err = c.Get(ctx, api.KindSecret, "m1", "nope")
	assert.ErrorIs(t, err, ErrNotFound)

	err = c.Delete(ctx, api.KindMesh, "", "m1")
	require.ErrorIs(t, err, ErrConflict)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Len(t, ae.Causes, 1)
	assert.Equal(t, "Secret m1/s", ae.Causes[0].Resource)

	require.NoError(t, c.Delete(ctx, api.KindSecret, "m1", "s"))
	require.NoError(t, c.Delete(ctx, api.KindMesh, "", "m1"))
	assert.ErrorIs(t, c.Delete(ctx, api.KindMesh, "", "m1"), ErrNotFound)
	_, err = c.Get(ctx, "Widget", "m1", "x")
	assert.ErrorContains(t, err, `unknown resource type "Widget"`)
}

func TestListFollowsPages(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	var docs []string
	var want []string
	for i := range 230 { // more than two of the server's default pages
		name := fmt.Sprintf("s%03d", i)
		docs = append(docs, fmt.Sprintf("type: Secret\nname: %s\ndata: aGk=\n", name))
		want = append(want, name)
	}
	_, err := c.Apply(ctx, []byte(strings.Join(docs, "---\n")))
	require.NoError(t, err)
	for _, mesh := range []string{"default", ""} {
		list, err := c.List(ctx, api.KindSecret, mesh)
		require.NoError(t, err)
		var got []string
		for _, r := range list {
			got = append(got, r.Name)
		}
		assert.Equal(t, want, got)
	}
	_, err = c.List(ctx, api.KindSecret, "nope")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestPut(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	secret := &api.Secret{Meta: api.Meta{Kind: api.KindSecret, Mesh: "default", Name: "s"}, Spec: api.SecretSpec{Data: "aGk="}}
	res, created, err := c.Put(ctx, secret, PutOptions{CreateOnly: true})
	require.NoError(t, err)
	assert.True(t, created)
	_, _, err = c.Put(ctx, secret, PutOptions{CreateOnly: true})
	assert.ErrorIs(t, err, ErrPreconditionFailed)

	secret.Spec.Data = "aG8="
	updated, created, err := c.Put(ctx, secret, PutOptions{IfMatch: res.Version})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Greater(t, updated.Version, res.Version)
	_, _, err = c.Put(ctx, secret, PutOptions{IfMatch: res.Version})
	assert.ErrorIs(t, err, ErrPreconditionFailed)
}

func TestErrorsCarryCauses(t *testing.T) {
	c := newClient(t)
	_, err := c.Apply(context.Background(), []byte("type: Secret\nmesh: nope\nname: s\ndata: aGk=\n"))
	require.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, "Resource is not valid\n  Secret nope/s: mesh: mesh \"nope\" does not exist", err.Error())
}

func TestToken(t *testing.T) {
	srv := newServer(t)
	for _, tok := range []string{"", "wrong"} {
		c, err := New(srv.URL, tok)
		require.NoError(t, err)
		_, err = c.List(context.Background(), api.KindMesh, "")
		assert.ErrorIs(t, err, ErrUnauthorized)
	}
}

func TestDataplaneViews(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	_, err := c.XDS(ctx, "default", "gw")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = c.Apply(ctx, []byte("type: Dataplane\nname: gw\nnetworking: {address: 10.0.0.1, gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}}\n"))
	require.NoError(t, err)
	for _, get := range []func(context.Context, string, string) (json.RawMessage, error){c.XDS, c.Inspect} {
		raw, err := get(ctx, "default", "gw")
		require.NoError(t, err)
		assert.JSONEq(t, `{"dataplane":"default/gw"}`, string(raw))
	}
}

func TestNonAPIErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway from a proxy", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "")
	require.NoError(t, err)
	_, err = c.Get(context.Background(), api.KindMesh, "", "m")
	var ae *APIError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
	assert.Equal(t, "bad gateway from a proxy", ae.Error())
}
