package gatewayinstance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestNewChecksOptions(t *testing.T) {
	// New talks to no server: clients for an address nobody listens on are enough.
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	kube, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	ok := Options{Client: kube, Dynamic: dyn, Image: testImage, ControlPlaneAddress: testCPAddress, ControlPlaneCA: testCA(t)}
	c, err := New(ok)
	require.NoError(t, err)
	require.NotNil(t, c)

	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no client", func(o *Options) { o.Client = nil }, "Client and Dynamic are required"},
		{"no dynamic client", func(o *Options) { o.Dynamic = nil }, "Client and Dynamic are required"},
		{"no image", func(o *Options) { o.Image = "" }, "--gateway-image"},
		{"no address", func(o *Options) { o.ControlPlaneAddress = "" }, "control plane address"},
		{"no CA", func(o *Options) { o.ControlPlaneCA = nil }, "no PEM block"},
		{"CA not PEM", func(o *Options) { o.ControlPlaneCA = []byte("not a certificate") }, "no PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.change(&o)
			_, err := New(o)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
