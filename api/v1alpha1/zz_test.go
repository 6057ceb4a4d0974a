package v1alpha1

import (
	"fmt"
	"strings"
	"testing"
)

func TestZZ(t *testing.T) {
	bomb := "type: Mesh\nname: m\nlogging:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += "  " + n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	for _, s := range []string{"type: Mesh\nname: m\nlogging: &a [*a]\n", "type: Mesh\nname: m\nlogging: &a {b: *a}\n", "type: Mesh\nname: m\nlogging: &a\n  <<: *a\n", "type: Mesh\nname: m\nlogging:\n  x: &b {k: 1}\n  y:\n    <<: [*b, {z: 2}]\n    k: 3\n", bomb} {
		objs, errs := Decode("t.yaml", []byte(s))
		fmt.Printf("%q => %q\n", s[:min(len(s), 80)], errStrings(errs))
		for _, o := range objs {
			fmt.Printf("%#v\n", o.(*Mesh).Spec.Logging)
		}
	}
}
