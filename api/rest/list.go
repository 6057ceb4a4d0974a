package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// Page sizes as Kuma has them: a listing is always paged, so no request can make the server
// encode the whole store at once.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// listAll is `/{plural}`: a global kind, or a mesh-scoped kind across every mesh.
func (h *handler) listAll(w http.ResponseWriter, r *http.Request) error {
	info, err := kindOf(r)
	if err != nil {
		return err
	}
	return h.list(w, r, info, "")
}

func (h *handler) listMesh(w http.ResponseWriter, r *http.Request) error {
	t, err := meshTarget(r)
	if err != nil {
		return err
	}
	if err := h.requireMesh(r.Context(), t.mesh); err != nil {
		return err
	}
	return h.list(w, r, t.info, t.mesh)
}

// list writes one page: `?size=N&offset=TOKEN`, where TOKEN is the store's page token, taken
// from the previous page's `next` URL.
func (h *handler) list(w http.ResponseWriter, r *http.Request, info api.KindInfo, mesh string) error {
	size, err := pageSize(r)
	if err != nil {
		return err
	}
	offset := r.URL.Query().Get("offset")
	req := store.ListRequest{Kind: string(info.Kind), Mesh: mesh, PageSize: size, PageToken: offset}
	page, err := h.store.List(r.Context(), req)
	if err != nil {
		return h.listError(r.Context(), req, err)
	}
	total := len(page.Records)
	if offset != "" || page.NextPageToken != "" {
		if total, err = h.count(r.Context(), info, mesh); err != nil {
			return err
		}
	}
	out := wire.List{Total: total, Items: make([]json.RawMessage, 0, len(page.Records))}
	for _, rec := range page.Records {
		item, holdsData, err := resourceJSON(r, rec)
		if err != nil {
			return err
		}
		if holdsData {
			noStore(w)
		}
		out.Items = append(out.Items, item)
	}
	if page.NextPageToken != "" {
		next := nextURL(r, size, page.NextPageToken)
		out.Next = &next
	}
	writeValue(w, r, http.StatusOK, out)
	return nil
}

func pageSize(r *http.Request) (int, error) {
	s := r.URL.Query().Get("size")
	if s == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fieldInvalid("size", "must be a number from 1 to %d", MaxPageSize)
	}
	return n, nil
}

// listError tells a bad offset (the caller's mistake) from a failing store: the store does not
// say which, so the same listing is retried from the start.
func (h *handler) listError(ctx context.Context, req store.ListRequest, err error) error {
	if req.PageToken != "" {
		retry := req
		retry.PageToken, retry.PageSize = "", 1
		if _, rerr := h.store.List(ctx, retry); rerr == nil {
			return fieldInvalid("offset", "is not a token from a previous page's next URL")
		}
	}
	return fmt.Errorf("listing %s: %w", req.Kind, err)
}

func (h *handler) count(ctx context.Context, info api.KindInfo, mesh string) (int, error) {
	all, err := h.store.List(ctx, store.ListRequest{Kind: string(info.Kind), Mesh: mesh})
	if err != nil {
		return 0, fmt.Errorf("counting %s: %w", info.Kind, err)
	}
	return len(all.Records), nil
}

// nextURL is absolute, as in Kuma, built from the request so it works through whatever
// address the client used.
func nextURL(r *http.Request, size int, token string) string {
	q := r.URL.Query()
	q.Set("size", strconv.Itoa(size))
	q.Set("offset", token)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	return u.String()
}
