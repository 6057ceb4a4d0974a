// Package modify applies a ProxyTemplate (Kuma's `ProxyTemplate` policy) to the Envoy resources
// meshgate generated for one dataplane. It runs last, after translate and before the snapshot:
//
//	resources → model → IR (build) → Envoy (translate) → modify.Apply → snapshot
//
// Select picks the one ProxyTemplate of a dataplane as Kuma does: the template with the most
// specific selector matching the dataplane's tags (its gateway tags, or the tags of any one of
// its inbounds); a template without selectors matches every dataplane with the lowest rank; ties
// go to the most recently created template, then to the first by name.
//
// Apply works on a copy and never changes its input. It adds conf.resources first, then applies
// conf.modifications in order, as Kuma does. Every modification is checked on its own before it
// is kept, and one that fails is reported as a problem and skipped while the others still apply:
//
//   - its value must decode as the Envoy type it stands for (protojson after YAML → JSON, unknown
//     fields are errors, `@type` must name a type meshgate links in; see extensions.go);
//   - every resource it adds or changes must pass Envoy's field validation (ValidateAll), including
//     the typed configs packed in Anys;
//   - the result must stay consistent: no name used twice, every EDS cluster with its
//     ClusterLoadAssignment, every RDS name with its route configuration and nothing left over,
//     no cluster referenced by a route or filter (route actions, weighted clusters, mirrors,
//     tcp_proxy, gRPC services, access log sinks) missing when it was there before, terminal
//     filters (http_connection_manager, tcp_proxy, ...; the HTTP router) last and only last, no
//     domain twice in a route configuration, no two listeners binding the same address.
//
// A modification that matches nothing (a patch of a cluster that does not exist, addBefore with an
// anchor no filter chain has) changes nothing and is reported too, since it is most likely a
// mistake.
//
// Semantics, operation by operation:
//
//   - resources: each raw resource is an Envoy Listener, Cluster, RouteConfiguration,
//     ClusterLoadAssignment or Secret, chosen by its `@type`; without `@type` it must decode as a
//     Cluster or, failing that, a Listener. An unnamed resource takes the entry's name. A name
//     that already exists is rejected (Kuma would silently replace the generated resource).
//     Raw resources are checked for consistency together, so an EDS cluster and its
//     ClusterLoadAssignment, or a listener and its route configuration, can be added side by side.
//     `version` is ignored: meshgate versions every type by a hash of its content.
//   - cluster / listener: add (the name must be new), patch (the value is merged into every match:
//     proto.Merge, except that Durations, Timestamps, wrappers and Anys are replaced whole, as
//     Kuma's merge does; repeated fields are appended), remove. Removing a cluster also removes its
//     now unused ClusterLoadAssignment, removing a listener its now unused route configurations.
//   - networkFilter / httpFilter, in every filter chain (and the default chain) of the matching
//     listeners, for httpFilter in every HTTP connection manager there: addFirst; addLast, which
//     goes before the terminal filter (http_connection_manager/tcp_proxy/...; the router) when
//     the list ends with one; addBefore / addAfter the first filter named match.name; patch, which
//     merges the value's typed_config into the typed_config of every filter named match.name (the
//     types must agree); remove every filter named match.name (every filter when it is empty).
//     A filter's typed_config must be a network filter (envoy.extensions.filters.network.*) or an
//     HTTP filter (envoy.extensions.filters.http.*) type respectively, or a TypedStruct.
//   - virtualHost: add, patch or remove virtual hosts (by match.name) of the RDS route
//     configurations matching match.routeConfigurationName.
//   - imports: meshgate always generates the dataplane's configuration (what `default-proxy` and
//     `gateway-proxy` stand for). A conf whose imports are empty, for which Kuma would generate
//     nothing but the template's own resources, is reported and otherwise treated as importing
//     the dataplane's profile.
//
// Origins (match.origin) are meshgate's approximation of Kuma's generator names:
//
//	inbound      listeners `inbound:<ip>:<port>`, clusters `localhost:<port>`, route configurations `inbound:*`
//	outbound     listeners and route configurations `outbound:*`, every other cluster
//	gateway      builtin gateway listeners and route configurations, every cluster that is not inbound or transparent
//	transparent  the transparent-proxy passthrough listeners and clusters
//
// Any other origin (prometheus, admin, dns, tracing, ...) matches nothing: meshgate generates no
// such resources.
//
// Code: apply.go runs a template (raw resources, then each modification, then commit with the
// checks of check.go); each operation has its own file, as its tests do (cluster.go and
// listener.go on resource.go, filter.go with edit.go, vhost.go). Listeners, filter chains, filters and what
// they load are read through xds/envoyres, the accessors explain uses too, so that which filter
// ends a chain or which route configuration a listener loads is decided in one place.
//
// Not supported, and reported as a problem instead of applied: listener tags (match.tags of a
// listener, match.listenerTags of a filter), because meshgate's listeners carry no
// `io.kuma.tags` metadata. Virtual hosts inside an inline route_config of an HTTP connection
// manager are not visited (meshgate only generates RDS). Semantic checks Envoy makes on load
// beyond the field rules (a cluster type that does not fit its lb_policy, a filter config only
// the filter itself rejects) are not made.
package modify
