package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// readmeExample is one `$ meshgate ...` line of a ```console block and the output under it.
type readmeExample struct {
	line int
	args []string
	want string
}

func readmeExamples(t *testing.T, path string) []readmeExample {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []readmeExample
	var cur *readmeExample
	inConsole := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !inConsole && strings.HasPrefix(line, "```console"):
			inConsole = true
		case inConsole && strings.HasPrefix(line, "```"):
			inConsole = false
			cur = nil
		case inConsole && strings.HasPrefix(line, "$ meshgate "):
			out = append(out, readmeExample{line: n, args: strings.Fields(strings.TrimPrefix(line, "$ meshgate "))})
			cur = &out[len(out)-1]
		case inConsole && cur != nil:
			cur.want += line + "\n"
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestReadmeExamples runs every console example of the README and compares its output, so the
// README can never drift from what meshgate prints.
func TestReadmeExamples(t *testing.T) {
	t.Chdir("../..")
	examples := readmeExamples(t, "README.md")
	require.GreaterOrEqual(t, len(examples), 4, "README console examples")
	for _, ex := range examples {
		t.Run(strings.Join(ex.args[:1], " ")+"@README.md:"+strconv.Itoa(ex.line), func(t *testing.T) {
			var buf bytes.Buffer
			code := run(ex.args, &buf, &buf)
			assert.Equal(t, ex.want, buf.String())
			if strings.Contains(ex.want, "error:") {
				assert.Equal(t, 1, code)
			} else {
				assert.Equal(t, 0, code)
			}
		})
	}
}

// TestReadmePolicyExamples decodes and validates every YAML block of the README's policy
// section, so a user copying one gets a resource meshgate accepts.
func TestReadmePolicyExamples(t *testing.T) {
	t.Chdir("../..")
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	text := string(raw)
	start := strings.Index(text, "## Gateway policies")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(text[start+1:], "\n## ")
	require.Greater(t, end, 0)
	section := text[start : start+1+end]
	blocks := strings.Split(section, "```yaml\n")[1:]
	require.GreaterOrEqual(t, len(blocks), 11, "one example per policy")
	kinds := map[string]bool{}
	for i, b := range blocks {
		doc := b[:strings.Index(b, "```")]
		objs, errs := api.Decode(fmt.Sprintf("README.md policy example %d", i), []byte(doc))
		require.Empty(t, errs, doc)
		require.Len(t, objs, 1)
		require.Empty(t, objs[0].Validate(), doc)
		kinds[string(objs[0].GetMeta().Kind)] = true
	}
	for _, k := range []string{"Timeout", "Retry", "RateLimit", "CircuitBreaker", "HealthCheck", "ProxyTemplate", "ExternalService", "FaultInjection", "TrafficPermission", "TrafficLog", "TrafficRoute"} {
		assert.True(t, kinds[k], "README has a %s example", k)
	}
}
