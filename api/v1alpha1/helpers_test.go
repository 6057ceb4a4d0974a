package v1alpha1

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// doc trims the newline after an opening backquote, so line 1 of the YAML is the line after it.
func doc(s string) string { return strings.TrimPrefix(s, "\n") }

func errStrings(errs ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// decodeErrs decodes a document as file test.yaml and returns its errors as strings.
func decodeErrs(yaml string) []string {
	_, errs := Decode("test.yaml", []byte(doc(yaml)))
	return errStrings(errs)
}

// decodeOne decodes a document that must hold exactly one valid resource.
func decodeOne(t *testing.T, yaml string) Object {
	t.Helper()
	objs, errs := Decode("test.yaml", []byte(doc(yaml)))
	require.Empty(t, errStrings(errs))
	require.Len(t, objs, 1)
	return objs[0]
}

// errCase is one validation or decoding case: a document and every error it must produce.
type errCase struct {
	name string
	yaml string
	want []string
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeErrs(tc.yaml)
			if tc.want == nil {
				tc.want = []string{}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
