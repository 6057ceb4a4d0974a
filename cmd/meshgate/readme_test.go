package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
