// Package kds syncs resources between the global control plane and zone control planes.
//
// It is shaped like Kuma's KDS (one gRPC connection from the zone to global with two
// bidirectional streams of delta discovery messages, one type URL per resource kind, wildcard
// subscriptions, a full set first and only changes after) but it is NOT wire-compatible with
// Kuma: the service is meshgate.kds.v1.KDS, type URLs are "meshgate.io/kds/<Kind>", and a
// resource's bytes are its universal-form JSON rather than Kuma's protobuf messages. A response
// whose system_version_info starts with "full/" is a full set for its type: the receiver deletes
// what it holds of that type and origin that the set lacks.
//
// GlobalToZoneSync: the zone sends DeltaDiscoveryRequests (subscribe, ACK/NACK), global sends
// DeltaDiscoveryResponses with its global resources and every zone's ZoneIngress; the zone keeps
// them with Origin "global". ZoneToGlobalSync: the zone sends DeltaDiscoveryResponses with its
// Dataplanes and ZoneIngresses, global answers with requests; global keeps them as
// "<zone>.<name>", Origin "zone:<zone>", labelled kuma.io/zone and kuma.io/origin=zone.
// SignIntermediate lets a zone have its mesh CA's intermediate signed by global.
package kds
