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
// transport the query came in on, or REFUSED when no upstream is configured,
// unless the client's view overrides the name ([ZoneConfig.Overrides], e.g. an
// external service's host resolving to its VIP): then it is answered
// authoritatively like a zone name. Only clients that ViewOf maps to a view get
// its overrides; the DefaultView fallback does not.
//
// Answers are packed once per (view, name, type) when the zone is built, so the
// hot path is a map lookup and a copy of the packed reply with the query's ID,
// flags and name spelling patched in.
package dns
