package backend

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/meshgate/meshgate/store"
)

// A page token is the (mesh, name) of the last record returned: keyset paging stays correct
// while records are added or removed between pages, which an offset would not.
type pageToken struct {
	Mesh string `json:"m"`
	Name string `json:"n"`
}

// Cursor is where a listing resumes; the zero value starts at the beginning.
type Cursor struct {
	Set        bool
	Mesh, Name string
}

// ValidateList checks a list request and decodes its page token.
func ValidateList(req store.ListRequest) (Cursor, error) {
	if req.Kind == "" {
		return Cursor{}, fmt.Errorf("%w: list: kind is empty", ErrInvalid)
	}
	if req.PageSize < 0 {
		return Cursor{}, fmt.Errorf("%w: list: page size %d", ErrInvalid, req.PageSize)
	}
	if req.PageToken == "" {
		return Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(req.PageToken)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: list: malformed page token", ErrInvalid)
	}
	var tok pageToken
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Name == "" {
		return Cursor{}, fmt.Errorf("%w: list: malformed page token", ErrInvalid)
	}
	return Cursor{Set: true, Mesh: tok.Mesh, Name: tok.Name}, nil
}

// Page trims a listing fetched with limit PageSize+1 to PageSize and sets NextPageToken if
// there was more.
func Page(recs []store.Record, pageSize int) store.ListResponse {
	if pageSize == 0 || len(recs) <= pageSize {
		return store.ListResponse{Records: recs}
	}
	recs = recs[:pageSize]
	last := recs[len(recs)-1]
	raw, _ := json.Marshal(pageToken{Mesh: last.Mesh, Name: last.Name})
	return store.ListResponse{Records: recs, NextPageToken: base64.RawURLEncoding.EncodeToString(raw)}
}
