package v1alpha1

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// fuzzFile names the fuzzed document in errors; every error must carry it.
const fuzzFile = "fuzz.yaml"

// FuzzDecode feeds arbitrary bytes to the decoder, which validates every resource it decodes.
// Under `go test` it runs only its seeds (every testdata file and the edge cases below);
// `go test -run '^$' -fuzz '^FuzzDecode$' ./api/v1alpha1/` explores further. checkDecoded says
// what must hold.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoded(t, data)
	})
}

// FuzzDecodeKind fixes the header (type, mesh, name) of a universal-form resource and lets the
// fuzzer write only its body, so that every kind's decoder and validator is explored rather than
// only the kinds byte mutations happen to spell. The seeds are the body of every testdata
// resource under its own kind, and every body under every other kind too (a Retry's `conf` read
// as a Timeout's is a good start for a wrong-but-plausible document).
func FuzzDecodeKind(f *testing.F) {
	kinds := Kinds()
	bodies := kindBodies(f)
	for i, k := range kinds {
		for _, b := range bodies[k] {
			f.Add(uint8(i), b)
		}
	}
	for i := range kinds {
		f.Add(uint8(i), []byte(""))
		f.Add(uint8(i), []byte("conf: {}\n"))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		checkDecoded(t, kindDocument(kinds[int(kind)%len(kinds)], body))
	})
}

// kindDocument is a universal-form document of kind with body as its fields.
func kindDocument(kind Kind, body []byte) []byte {
	head := "type: " + string(kind) + "\nname: fuzz\n"
	if info, _ := LookupKind(kind); !info.Global {
		head += "mesh: default\n"
	}
	return append([]byte(head), body...)
}

// checkDecoded is what must hold for any input: no panic; every error names the file; every
// resource returned is valid, has a kind, a name and (unless global) a mesh; and it survives
// the trip the HTTP API and the store put it through, Encode then Decode, unchanged. A resource
// Encode cannot write would be a 500 on PUT; one that does not decode back would be skipped by
// the control plane after it was accepted.
func checkDecoded(t *testing.T, data []byte) {
	objs, errs := Decode(fuzzFile, data)
	for _, e := range errs {
		if e.File != fuzzFile || e.Message == "" {
			t.Fatalf("error without file or message: %#v", e)
		}
	}
	for _, o := range objs {
		m := o.GetMeta()
		info, ok := LookupKind(m.Kind)
		switch {
		case !ok:
			t.Fatalf("decoded an unregistered kind %q", m.Kind)
		case m.Name == "":
			t.Fatalf("decoded %s without a name", m.Kind)
		case info.Global != (m.Mesh == ""):
			t.Fatalf("decoded %s with mesh %q (global kind: %v)", m.Kind, m.Mesh, info.Global)
		}
		if verrs := o.Validate(); len(verrs) > 0 {
			t.Fatalf("returned an invalid resource %s: %v", m.DisplayName(), verrs)
		}
		checkRoundTrip(t, o)
	}
}

func checkRoundTrip(t *testing.T, o Object) {
	m := o.GetMeta()
	if info, _ := LookupKind(m.Kind); info.KubernetesOnly {
		return // no universal form to round-trip through
	}
	raw, err := Encode(o)
	if err != nil {
		t.Fatalf("a valid %s does not encode: %v", m.DisplayName(), err)
	}
	back, errs := Decode("roundtrip.json", raw)
	if len(errs) > 0 || len(back) != 1 {
		t.Fatalf("encoded %s does not decode back (%d objects): %v\n%s", m.DisplayName(), len(back), errs, raw)
	}
	bm := back[0].GetMeta()
	if bm.Key() != m.Key() {
		t.Fatalf("round trip changed the key: %s became %s", m.Key(), bm.Key())
	}
	if len(m.Labels)+len(bm.Labels) > 0 && !reflect.DeepEqual(m.Labels, bm.Labels) {
		t.Fatalf("round trip changed the labels of %s: %v became %v", m.DisplayName(), m.Labels, bm.Labels)
	}
	want, _ := specOf(o)
	got, _ := specOf(back[0])
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		t.Fatalf("round trip changed %s:\nbefore %#v\nafter  %#v\nencoded %s", m.DisplayName(), want.Interface(), got.Interface(), raw)
	}
}

// decodeSeeds is every testdata file, one valid resource of each kind testdata lacks, and
// inputs that once broke or nearly broke the decoder.
func decodeSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	files, err := filepath.Glob("testdata/*/*.yaml")
	require.NoError(tb, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(tb, err)
		seeds = append(seeds, data)
	}
	for _, s := range []string{
		"",
		"---\n---\n",
		"type: Secret\nmesh: default\nname: s\ndata: aGVsbG8=\n",
		"type: ZoneIngress\nname: zi\nzone: z\nnetworking: {address: 10.0.0.1, port: 1, advertisedAddress: 1.2.3.4, advertisedPort: 2}\navailableServices: [{mesh: default, tags: {kuma.io/service: a}, instances: 1}]\n",
		"apiVersion: v1\nkind: Secret\ntype: system.kuma.io/secret\nmetadata: {name: s, labels: {kuma.io/mesh: m}}\ndata: {value: aGVsbG8=}\n",
		"apiVersion: v1\nkind: Secret\ntype: system.kuma.io/secret\nmetadata: {name: s}\nstringData: {value: hello}\n",
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
		"type: Mesh\nname: m\nlabels: {a: b}\ncreationTime: 2024-01-01T00:00:00Z\n",
		"type: Timeout\nname: t\nsources: [{match: {kuma.io/service: '*'}}]\ndestinations: [{match: {kuma.io/service: '*'}}]\nconf: {connectTimeout: 1e3s, http: {requestTimeout: -1s}}\n",
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// kindBodies is, per kind, the body (every field but type, mesh and name) of each resource in
// the seeds, as YAML: what FuzzDecodeKind appends to its fixed header.
func kindBodies(tb testing.TB) map[Kind][][]byte {
	bodies := map[Kind][][]byte{}
	var all [][]byte
	for _, s := range decodeSeeds(tb) {
		objs, _ := Decode("seed.yaml", s)
		for _, o := range objs {
			raw, err := Encode(o)
			require.NoError(tb, err)
			var fields map[string]any
			require.NoError(tb, json.Unmarshal(raw, &fields))
			for _, k := range []string{"type", "mesh", "name"} {
				delete(fields, k)
			}
			body := []byte{}
			if len(fields) > 0 {
				body, err = yaml.Marshal(fields)
				require.NoError(tb, err)
			}
			kind := o.GetMeta().Kind
			bodies[kind] = append(bodies[kind], body)
			all = append(all, body)
		}
	}
	// Every body under every kind once, in a fixed order, so seeds are reproducible.
	sort.Slice(all, func(i, j int) bool { return string(all[i]) < string(all[j]) })
	for _, k := range Kinds() {
		for _, b := range all {
			bodies[k] = append(bodies[k], b)
		}
	}
	return bodies
}

// The seeds must hold a valid resource of every registered kind: otherwise the fuzzer starts
// with nothing that reaches that kind's validator, and a new kind would go unfuzzed silently.
func TestFuzzSeedsCoverEveryKind(t *testing.T) {
	valid := map[Kind]int{}
	for _, s := range decodeSeeds(t) {
		objs, _ := Decode("seed.yaml", s)
		for _, o := range objs {
			valid[o.GetMeta().Kind]++
		}
	}
	for _, k := range Kinds() {
		require.NotZero(t, valid[k], "no seed of FuzzDecode decodes to a valid %s", k)
	}
	// And each kind's own bodies are valid under FuzzDecodeKind's header.
	bodies := kindBodies(t)
	for _, k := range Kinds() {
		ok := 0
		for _, b := range bodies[k] {
			if objs, errs := Decode("seed.yaml", kindDocument(k, b)); len(errs) == 0 && len(objs) == 1 {
				ok++
			}
		}
		require.NotZero(t, ok, "no FuzzDecodeKind seed is a valid %s", k)
	}
}
