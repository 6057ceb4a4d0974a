package build

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHostContains(t *testing.T) {
	cases := []struct {
		h, n string
		want bool
	}{
		{"*", "foo.example.com", true},
		{"*", "*.example.com", true},
		{"*.example.com", "foo.example.com", true},
		{"*.example.com", "a.foo.example.com", true},
		{"*.example.com", "*.foo.example.com", true},
		{"*.example.com", "*.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "foo.examples.com", false},
		{"*.example.com", "notexample.com", false},
		{"*.com", "*.examples.com", true},
		{"foo.example.com", "foo.example.com", true},
		{"foo.example.com", "*.example.com", false},
		{"foo.bar.com", "foo.baz.bar.com", false}, // Kuma says true: its label match ignores the middle
		{"foo.example.com", "bar.example.com", false},
		{"*.example.com", "*", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, hostContains(c.h, c.n), "%s contains %s", c.h, c.n)
	}
}

func TestHostIntersection(t *testing.T) {
	got, ok := hostIntersection("*.example.com", "foo.example.com")
	assert.True(t, ok)
	assert.Equal(t, "foo.example.com", got)
	got, ok = hostIntersection("foo.example.com", "*")
	assert.True(t, ok)
	assert.Equal(t, "foo.example.com", got)
	_, ok = hostIntersection("*.example.com", "*.examples.com")
	assert.False(t, ok)
}

func TestSortHostnames(t *testing.T) {
	hs := []string{"*", "*.com", "foo.example.com", "*.example.com", "bar.example.com"}
	sortHostnames(hs)
	assert.Equal(t, []string{"bar.example.com", "foo.example.com", "*.example.com", "*.com", "*"}, hs)
}
