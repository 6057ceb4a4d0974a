package rest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
)

func TestIfMatch(t *testing.T) {
	const path = "/meshes/default/secrets/cert"
	changed := strings.Replace(secretYAML, "aGVsbG8=", "aGk=", 1)
	cases := []struct {
		name    string
		method  string
		body    string
		headers []string
		want    int
	}{
		{"put current version", http.MethodPut, changed, []string{"If-Match", `"1"`}, http.StatusOK},
		{"put in list", http.MethodPut, changed, []string{"If-Match", `"7", "1"`}, http.StatusOK},
		{"put any", http.MethodPut, changed, []string{"If-Match", `*`}, http.StatusOK},
		{"put stale version", http.MethodPut, changed, []string{"If-Match", `"2"`}, http.StatusPreconditionFailed},
		{"put not a version", http.MethodPut, changed, []string{"If-Match", `"abc"`}, http.StatusPreconditionFailed},
		{"delete current version", http.MethodDelete, "", []string{"If-Match", `"1"`}, http.StatusOK},
		{"delete stale version", http.MethodDelete, "", []string{"If-Match", `"5"`}, http.StatusPreconditionFailed},
		{"create only on existing", http.MethodPut, changed, []string{"If-None-Match", "*"}, http.StatusPreconditionFailed},
		{"unless version", http.MethodPut, changed, []string{"If-None-Match", `"1"`}, http.StatusPreconditionFailed},
		{"unless other version", http.MethodPut, changed, []string{"If-None-Match", `"3"`}, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t)
			a.do(http.MethodPut, path, secretYAML).mustStatus(t, http.StatusCreated)
			before := a.snapshot()
			r := a.do(c.method, path, c.body, c.headers...).mustStatus(t, c.want)
			if c.want == http.StatusPreconditionFailed {
				assert.Equal(t, "Precondition failed", r.apiError(t).Title)
				assert.Equal(t, before, a.snapshot())
			}
		})
	}
}

func TestCreateOnly(t *testing.T) {
	a := newAPI(t)
	const path = "/meshes/default/secrets/cert"
	a.do(http.MethodPut, path, secretYAML, "If-Match", `"1"`).mustStatus(t, http.StatusPreconditionFailed)
	a.do(http.MethodPut, path, secretYAML, "If-None-Match", "*").mustStatus(t, http.StatusCreated)
	a.do(http.MethodPut, path, secretYAML, "If-None-Match", "*").mustStatus(t, http.StatusPreconditionFailed)
}

func TestGetIfNoneMatch(t *testing.T) {
	a := newAPI(t)
	a.do(http.MethodPut, "/meshes/m1", meshYAML).mustStatus(t, http.StatusCreated)
	a.do(http.MethodGet, "/meshes/m1", "", "If-None-Match", `"1"`).mustStatus(t, http.StatusNotModified)
	a.do(http.MethodGet, "/meshes/m1", "", "If-None-Match", `"0"`).mustStatus(t, http.StatusOK)
}

// A writer outside the API that changes the record between the handler's read and its commit
// makes the commit conflict; the handler re-reads and re-checks instead of overwriting.
func TestConcurrentWriterIsRetried(t *testing.T) {
	const path = "/meshes/default/secrets/cert"
	t.Run("unconditional put retries", func(t *testing.T) {
		a := newAPI(t)
		a.do(http.MethodPut, path, secretYAML).mustStatus(t, http.StatusCreated)
		a.store.beforeApply = interloper(t, a.store)
		r := a.do(http.MethodPut, path, strings.Replace(secretYAML, "aGVsbG8=", "aGk=", 1)).mustStatus(t, http.StatusOK)
		assert.Equal(t, `"3"`, r.header.Get("ETag"))
	})
	t.Run("conditional put fails", func(t *testing.T) {
		a := newAPI(t)
		a.do(http.MethodPut, path, secretYAML).mustStatus(t, http.StatusCreated)
		a.store.beforeApply = interloper(t, a.store)
		a.do(http.MethodPut, path, strings.Replace(secretYAML, "aGVsbG8=", "aGk=", 1), "If-Match", `"1"`).
			mustStatus(t, http.StatusPreconditionFailed)
	})
}

// interloper bumps the secret's version once, just before the handler's first Apply.
func interloper(t *testing.T, s *memStore) func() {
	done := false
	return func() {
		if done {
			return
		}
		done = true
		key := store.Key{Kind: "Secret", Mesh: "default", Name: "cert"}
		cur, err := s.Get(context.Background(), key)
		require.NoError(t, err)
		_, err = s.Apply(context.Background(), store.ApplyRequest{Puts: []store.Put{{Key: key, Spec: cur.Spec, Origin: "file:x.yaml"}}})
		require.NoError(t, err)
	}
}

// Concurrent writers of the same resource with If-Match: exactly one wins per version.
func TestConcurrentIfMatch(t *testing.T) {
	a := newAPI(t)
	const path = "/meshes/default/secrets/cert"
	a.do(http.MethodPut, path, secretYAML).mustStatus(t, http.StatusCreated)
	const writers = 8
	statuses := make(chan int, writers)
	for i := range writers {
		go func() {
			body := strings.Replace(secretYAML, "aGVsbG8=", fmt.Sprintf("aGk%d", i), 1)
			req, _ := http.NewRequest(http.MethodPut, a.srv.URL+path, strings.NewReader(body))
			req.Header.Set("If-Match", `"1"`)
			resp, err := a.srv.Client().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	count := map[int]int{}
	for range writers {
		count[<-statuses]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusPreconditionFailed: writers - 1}, count)
}
