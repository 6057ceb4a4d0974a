// Package dns is meshgate's embedded DNS server.
//
// It is authoritative for one origin (normally "mesh.") and serves an immutable
// [Zone] that the caller swaps atomically with [Server.SetZone] whenever its
// table changes. The package knows nothing of meshes: a zone holds global
// records, which every client sees, and named views, and [Options.ViewOf]
// decides which view a client sees from its source address. The caller maps
// views to meshes.
//
// Names outside the origin are forwarded to upstream resolvers over the
// transport the query came in on, but only for clients in the allow list
// ([Options.ForwardAllow] plus the addresses given to
// [Server.SetForwardAllowed]); other clients, and everyone when no upstream is
// configured, get REFUSED, so the server is no open resolver. A forwarded
// answer that does not fit the client's UDP buffer is truncated with TC set,
// and the client gets all of it over TCP. A name the client's view overrides
// ([ZoneConfig.Overrides], e.g. an external service's host resolving to its
// VIP) is answered authoritatively like a zone name instead. Only clients that
// ViewOf maps to a view get its overrides; the DefaultView fallback does not.
//
// Answers are packed once per (view, name, type) when the zone is built, so the
// hot path is a map lookup and a copy of the packed reply with the query's ID,
// flags and name spelling patched in.
package dns
