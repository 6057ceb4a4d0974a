// Package backend holds what the SQLite and PostgreSQL stores share, so that both apply the
// same rules (validation, version checks, paging, watch coalescing) and differ only in SQL.
package backend
