package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/controlplane"
)

// cliDefaultAPI is the CLI's default --api-address (cmd/meshgate client_flags.go): the README's
// `meshgate token zone` and `meshgate ca control-plane` reach global there, without a flag.
const cliDefaultAPI = "127.0.0.1:5681"

// readmeMultiZone is the README's `<!-- multizone -->` block, split by what each line does.
type readmeMultiZone struct {
	global string   // meshgate run --mode global ...
	setup  string   // the zone tokens and global's CA, against global's API
	zones  []string // meshgate run --mode zone ...
}

// multiZoneCommands reads the block and fails, naming what it expected, if its shape changed:
// the test below runs exactly these lines, so a new line must be a decision made here too.
func multiZoneCommands(t *testing.T) readmeMultiZone {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(raw), "<!-- multizone -->")
	require.True(t, ok, "README has no <!-- multizone --> marker before the Multi-zone commands")
	require.True(t, strings.HasPrefix(strings.TrimLeft(after, "\n"), "```sh\n"), "the <!-- multizone --> marker must be right before a ```sh block")
	_, block, _ := strings.Cut(after, "```sh\n")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok, "the Multi-zone ```sh block is not closed")
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	shape := "want 4 commands: `meshgate run --mode global ...`, one line with `meshgate token zone` and " +
		"`meshgate ca control-plane`, then two `meshgate run --mode zone ...`; got:\n" + strings.Join(lines, "\n")
	require.Len(t, lines, 4, "README Multi-zone block changed shape (update TestMultiZoneReadme): "+shape)
	require.True(t, strings.HasPrefix(lines[0], "meshgate run --mode global "), shape)
	require.True(t, strings.Contains(lines[1], "meshgate token zone ") && strings.Contains(lines[1], "meshgate ca control-plane"), shape)
	for _, z := range lines[2:] {
		require.True(t, strings.HasPrefix(z, "meshgate run --mode zone "), shape)
		// Run lines are exec'd by bash; anything beyond words would change what runs.
		require.NotRegexp(t, `['"$|&;<>\\]`, z, "a run line must be plain words")
	}
	require.NotRegexp(t, `['"$|&;<>\\]`, lines[0], "a run line must be plain words")
	return readmeMultiZone{global: lines[0], setup: lines[1], zones: lines[2:]}
}

// readmePorts maps every port the README names to a loopback port free now, the same README
// port always to the same one: two README processes sharing a port then clash here too.
type readmePorts struct {
	t     *testing.T
	ports map[string]uint32
}

// addressRE is an address in a command line: an optional loopback or wildcard host, then
// :PORT. A bare `:PORT` listens on every interface; the test keeps everything on loopback.
var addressRE = regexp.MustCompile(`(?:\b(?:127\.0\.0\.1|localhost|0\.0\.0\.0))?:(\d{2,5})\b`)

func (p *readmePorts) rewrite(line string) string {
	return addressRE.ReplaceAllStringFunc(line, func(addr string) string {
		port := addressRE.FindStringSubmatch(addr)[1]
		if p.ports[port] == 0 {
			p.ports[port] = freePort(p.t)
		}
		return fmt.Sprintf("127.0.0.1:%d", p.ports[port])
	})
}

// withDefaultAddresses names, on a `meshgate run` line, the listen addresses it leaves at their
// defaults, so that they are rewritten (and checked for clashes) like the ones it names.
func withDefaultAddresses(line string) string {
	cfg := controlplane.DefaultConfig()
	defaults := [][2]string{
		{"--xds-address", cfg.XDSAddress},
		{"--api-address", cfg.APIAddress},
		{"--api-tls-address", cfg.APITLSAddress},
		{"--diag-address", cfg.DiagAddress},
		{"--dns-address", cfg.DNS.Address},
	}
	if strings.Contains(line, "--mode global") {
		defaults = append(defaults, [2]string{"--kds-address", controlplane.DefaultKDSAddress})
	}
	for _, d := range defaults {
		if !strings.Contains(line, d[0]+" ") && !strings.Contains(line, d[0]+"=") {
			line += " " + d[0] + " " + d[1]
		}
	}
	return line
}

// startReadmeCP runs one README `meshgate run` line in dir (its relative data dir and files
// live there) and waits until it is ready; it is stopped when the test ends.
func startReadmeCP(t *testing.T, bin, dir, line string, env []string) *binaryCP {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// exec: the signal that stops it reaches meshgate, not a shell.
	srv := exec.CommandContext(ctx, "bash", "-c", "exec "+line)
	srv.Dir, srv.Env = dir, env
	stderr, err := srv.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	var logs syncBuffer
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = srv.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = srv.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				cancel()
				<-done
			}
			cancel()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("log of %s:\n%s", line, logs.String())
		}
	})
	cp := &binaryCP{bin: bin, pid: srv.Process.Pid, stop: stop}
	// The addresses once logged, or nil when the process exits without them (a wrong flag, a
	// port in use), so that such a failure is reported at once, with the log.
	addrs := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var found []string
		for sc.Scan() {
			_, _ = logs.Write(append(sc.Bytes(), '\n'))
			if found = runningLine.FindStringSubmatch(sc.Text()); found != nil {
				break
			}
		}
		addrs <- found
		_, _ = io.Copy(&logs, stderr)
	}()
	var m []string
	select {
	case m = <-addrs:
	case <-time.After(30 * time.Second):
	}
	require.NotNil(t, m, "%s: never logged its addresses:\n%s", line, logs.String())
	cp.xds, cp.api, cp.diag = m[1], m[2], m[3]
	cp.environ = append(append([]string{}, env...), "MESHGATE_API_ADDRESS=http://"+cp.api)
	require.Eventually(t, func() bool { return readyStatus(cp) == http.StatusOK }, 20*time.Second, 50*time.Millisecond,
		"%s: never ready", line)
	return cp
}

// TestMultiZoneReadme runs the README's Multi-zone commands as written, only with their ports
// moved to free loopback ones, and checks what the README says of the result: both zones
// connect, a MeshGateway made on global reaches both zones, and a Dataplane made in zone 1
// shows on global as zone-1.<name> labelled with its zone.
func TestMultiZoneReadme(t *testing.T) {
	cmds := multiZoneCommands(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	ports := &readmePorts{t: t, ports: map[string]uint32{}}
	// The CLI lines carry no address: they reach global at the CLI's default, moved as well.
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"),
		"MESHGATE_API_ADDRESS=http://"+ports.rewrite(cliDefaultAPI), "MESHGATE_ADMIN_TOKEN=", "MESHGATE_CA_FILE=")

	globalLine := ports.rewrite(withDefaultAddresses(cmds.global))
	t.Logf("global: %s\n  (README: %s)", globalLine, cmds.global)
	global := startReadmeCP(t, bin, dir, globalLine, env)
	require.Equal(t, ports.rewrite(cliDefaultAPI), global.api, "global's API is where the README's CLI lines look for it")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	setup := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmds.setup)
	setup.Dir, setup.Env = dir, env
	out, err := setup.CombinedOutput()
	require.NoError(t, err, "%s\n%s", cmds.setup, out)

	zones := map[string]*binaryCP{}
	for _, z := range cmds.zones {
		name := regexp.MustCompile(`--zone (\S+)`).FindStringSubmatch(z)
		require.NotNil(t, name, "zone line without --zone: %s", z)
		line := ports.rewrite(withDefaultAddresses(z))
		t.Logf("%s: %s\n  (README: %s)", name[1], line, z)
		zones[name[1]] = startReadmeCP(t, bin, dir, line, env)
	}
	require.Len(t, zones, 2, "two zones")
	z1, z2 := zones["zone-1"], zones["zone-2"]
	require.NotNil(t, z1, "the README starts zone-1")
	require.NotNil(t, z2, "the README starts zone-2")

	// Both zones connected, as GET /zones on global reports them.
	eventuallyGet(t, global, "/zones", func(code int, body string) bool {
		return code == 200 && regexp.MustCompile(`"zone":"zone-1","connected":true`).MatchString(body) &&
			regexp.MustCompile(`"zone":"zone-2","connected":true`).MatchString(body)
	})

	// Gateways are made on global and reach every zone.
	w := &mzWorld{t: t}
	out2, err := w.apply(global, mzGatewayResources)
	require.NoError(t, err, out2)
	for _, z := range zones {
		eventuallyGet(t, z, "/meshes/default/meshgateways/edge-gateway", func(code int, _ string) bool { return code == 200 })
	}

	// Dataplanes are made in their zone and show on global with the zone's prefix and label.
	out2, err = w.apply(z1, mzGatewayDataplane)
	require.NoError(t, err, out2)
	eventuallyGet(t, global, "/meshes/default/dataplanes/zone-1.gateway-1", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"kuma.io/zone":"zone-1"`)
	})
}
