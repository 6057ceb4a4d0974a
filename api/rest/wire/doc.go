// Package wire is the contract between the HTTP API server (api/rest) and its clients
// (api/client, the CLI): URL paths derived from the kind registry, the JSON shapes of lists,
// errors and apply results, and the YAML rendering both sides print. Keeping it in one place
// means a path or a field cannot drift between the two ends.
package wire
