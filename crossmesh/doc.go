// Package crossmesh decides which MeshGateway listeners are exposed to every mesh, under which
// DNS names, with which endpoints and identity, which `<service>.mesh` names each mesh
// publishes, and which ExternalService hosts resolve to a VIP in their mesh. Resolve is a pure
// function of the model: DNS, VIP allocation (subpackage vip) and xDS all read the same Table,
// so a name is never published by one and refused by another.
package crossmesh
