package v1alpha1

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that decoding and validating never panics, whatever the bytes. Under
// `go test` it runs only its seeds; `go test -fuzz FuzzDecode ./api/v1alpha1` explores further.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"---\n---\n",
		"type: Mesh\nname: m\ntracing: &a {b: *a}\n",
		"type: Mesh\nname: m\ntracing: &a\n  <<: *a\n",
		"apiVersion: v1\nkind: List\nitems: [&x {apiVersion: kuma.io/v1alpha1, kind: Mesh, metadata: {name: a}}, *x]\n",
		"apiVersion: v1\nkind: Secret\ntype: system.kuma.io/secret\nmetadata: {name: s}\ndata: {value: '!!'}\n",
		`{"type": "MeshGateway", "name": "g", "conf": {"listeners": [{"port": "80", "protocol": 4}]}}`,
		"type: MeshGatewayRoute\nname: r\nconf: {http: {rules: [{matches: [{path: {match: REGEX, value: '('}}], filters: [{}, {mirror: {percentage: .nan}}]}]}}\n",
		"type: Dataplane\nname: d\nnetworking: {admin: {port: 1}, inbound: [{port: 1}], outbound: [{port: 1}]}\n",
		"type: Mesh\nname: m\nlogging: {defaultBackend: x, backends: [{type: tcp, conf: {address: 5}}, {name: f, type: file, conf: {path: [a]}}]}\n",
		"type: FaultInjection\nname: f\nconf: {responseBandwidth: {limit: 99999999999999999999gbps, percentage: .nan}, abort: {httpStatus: 4294967295}, delay: {}}\n",
		"type: ExternalService\nname: e\nnetworking: {address: '[::1', tls: {caCert: {}, clientKey: {inline: '!'}}}\n",
		"type: TrafficLog\nname: t\nsources: [{match: {kuma.io/mesh: '*'}}]\ndestinations: [{}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := Decode("fuzz.yaml", data)
		for _, o := range objs {
			if errs := o.Validate(); len(errs) > 0 {
				t.Fatalf("returned an invalid resource: %v", errs)
			}
		}
	})
}
