package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Resource is one resource as the API returns it.
type Resource struct {
	Type             api.Kind
	Mesh             string
	Name             string
	CreationTime     time.Time
	ModificationTime time.Time
	// Version is the resource's ETag; zero for resources that came from a listing.
	Version int64
	// Raw is the body exactly as served: universal form plus the two times.
	Raw json.RawMessage
}

// Object decodes and validates the resource. A Secret read without GetOptions.Reveal has no
// data (wire.RedactedData stands in for it), so it does not decode.
func (r *Resource) Object() (api.Object, error) {
	if r.Redacted() {
		return nil, fmt.Errorf("%s: its data is redacted; read it with GetOptions{Reveal: true}", r.DisplayName())
	}
	objs, errs := api.Decode(r.DisplayName(), r.Raw)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("%s: the body holds %d resources", r.DisplayName(), len(objs))
	}
	return objs[0], nil
}

// Redacted reports whether the server left the resource's Secret data out of the response.
func (r *Resource) Redacted() bool {
	if r.Type != api.KindSecret {
		return false
	}
	var body struct {
		Data string `json:"data"`
	}
	return json.Unmarshal(r.Raw, &body) == nil && body.Data == wire.RedactedData
}

// DisplayName names the resource as errors do: `MeshGateway default/edge`, `Mesh default`.
func (r *Resource) DisplayName() string {
	if r.Mesh == "" {
		return string(r.Type) + " " + r.Name
	}
	return string(r.Type) + " " + r.Mesh + "/" + r.Name
}

func parseResource(raw []byte) (Resource, error) {
	var head struct {
		Type             string    `json:"type"`
		Mesh             string    `json:"mesh"`
		Name             string    `json:"name"`
		CreationTime     time.Time `json:"creationTime"`
		ModificationTime time.Time `json:"modificationTime"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Resource{}, fmt.Errorf("decoding a resource: %w", err)
	}
	return Resource{Type: api.Kind(head.Type), Mesh: head.Mesh, Name: head.Name, CreationTime: head.CreationTime,
		ModificationTime: head.ModificationTime, Raw: json.RawMessage(raw)}, nil
}

func kindInfo(kind api.Kind) (api.KindInfo, error) {
	info, ok := api.LookupKind(kind)
	if !ok {
		return info, fmt.Errorf("unknown resource type %q", kind)
	}
	return info, nil
}

// GetOptions tune a read.
type GetOptions struct {
	// Reveal asks for Secret data, which reads otherwise return as wire.RedactedData. It still
	// needs the admin token, as every request does when one is set.
	Reveal bool
}

func (o GetOptions) query() url.Values {
	q := url.Values{}
	if o.Reveal {
		q.Set(wire.RevealParam, "true")
	}
	return q
}

// Get reads one resource; mesh is ignored for global kinds (Mesh). Secret data is redacted.
func (c *Client) Get(ctx context.Context, kind api.Kind, mesh, name string) (*Resource, error) {
	return c.GetWith(ctx, kind, mesh, name, GetOptions{})
}

// GetWith is Get with options: GetOptions{Reveal: true} for a Secret's data.
func (c *Client) GetWith(ctx context.Context, kind api.Kind, mesh, name string, opts GetOptions) (*Resource, error) {
	info, err := kindInfo(kind)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: wire.ResourcePath(info, mesh, name), query: opts.query()})
	if err != nil {
		return nil, err
	}
	return withVersion(resp)
}

func withVersion(resp *response) (*Resource, error) {
	res, err := parseResource(resp.body)
	if err != nil {
		return nil, err
	}
	res.Version = parseETag(resp.header.Get("ETag"))
	return &res, nil
}

func parseETag(tag string) int64 {
	v, _ := strconv.ParseInt(strings.Trim(strings.TrimPrefix(tag, "W/"), `"`), 10, 64)
	return v
}

// List reads every resource of a kind in a mesh, or in every mesh when mesh is empty, following
// the server's pages. Secret data is redacted.
func (c *Client) List(ctx context.Context, kind api.Kind, mesh string) ([]Resource, error) {
	return c.ListWith(ctx, kind, mesh, GetOptions{})
}

// ListWith is List with options: GetOptions{Reveal: true} for Secrets' data.
func (c *Client) ListWith(ctx context.Context, kind api.Kind, mesh string, opts GetOptions) ([]Resource, error) {
	info, err := kindInfo(kind)
	if err != nil {
		return nil, err
	}
	path := wire.CollectionPath(info, mesh)
	var out []Resource
	seen := map[string]bool{}
	query := opts.query()
	for {
		resp, err := c.do(ctx, request{method: http.MethodGet, path: path, query: query})
		if err != nil {
			return nil, err
		}
		var page wire.List
		if err := json.Unmarshal(resp.body, &page); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", path, err)
		}
		for _, item := range page.Items {
			res, err := parseResource(item)
			if err != nil {
				return nil, err
			}
			out = append(out, res)
		}
		if page.Next == nil {
			return out, nil
		}
		// Only the offset of the next URL is used: the next page is asked of the same server
		// the client was given, whatever host the server believes it is.
		next, err := url.Parse(*page.Next)
		if err != nil {
			return nil, fmt.Errorf("listing %s: next page %q: %w", path, *page.Next, err)
		}
		offset := next.Query().Get("offset")
		if offset == "" || seen[offset] {
			return nil, fmt.Errorf("listing %s: the server's next page %q does not advance", path, *page.Next)
		}
		seen[offset] = true
		query = opts.query()
		query.Set("offset", offset)
		if size := next.Query().Get("size"); size != "" {
			query.Set("size", size)
		}
	}
}

// PutOptions are a Put's preconditions.
type PutOptions struct {
	// IfMatch, when not zero, requires the stored resource to be at this version.
	IfMatch int64
	// CreateOnly fails the put if the resource exists.
	CreateOnly bool
}

// Put creates or replaces one resource and reports whether it was created.
func (c *Client) Put(ctx context.Context, obj api.Object, opts PutOptions) (res *Resource, created bool, err error) {
	m := obj.GetMeta()
	info, err := kindInfo(m.Kind)
	if err != nil {
		return nil, false, err
	}
	body, err := api.Encode(obj)
	if err != nil {
		return nil, false, err
	}
	header := http.Header{}
	if opts.IfMatch != 0 {
		header.Set("If-Match", `"`+strconv.FormatInt(opts.IfMatch, 10)+`"`)
	}
	if opts.CreateOnly {
		header.Set("If-None-Match", "*")
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, path: wire.ResourcePath(info, m.Mesh, m.Name), body: body, header: header})
	if err != nil {
		return nil, false, err
	}
	res, err = withVersion(resp)
	return res, resp.status == http.StatusCreated, err
}

// Delete removes one resource. Deleting a mesh that still holds resources fails with
// ErrConflict, its causes listing them.
func (c *Client) Delete(ctx context.Context, kind api.Kind, mesh, name string) error {
	info, err := kindInfo(kind)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodDelete, path: wire.ResourcePath(info, mesh, name)})
	return err
}

// Apply writes every resource of a multi-document YAML or JSON body in one transaction and
// reports, per resource, whether it was created, configured or unchanged.
func (c *Client) Apply(ctx context.Context, body []byte) ([]wire.ApplyResult, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: wire.ApplyPath, body: body,
		header: http.Header{"Content-Type": {wire.ContentYAML}}})
	if err != nil {
		return nil, err
	}
	var out wire.ApplyResponse
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return nil, fmt.Errorf("decoding the apply response: %w", err)
	}
	return out.Results, nil
}
