# The meshgate image: the control plane (`meshgate run --environment kubernetes`) and the
# gateway pods of MeshGatewayInstances (`meshgate dataplane`, which fetches the pod's bootstrap
# and execs Envoy) run the same image, so it carries both meshgate and Envoy.
#   docker build -t meshgate/meshgate:dev .
# `meshgate install control-plane --image IMAGE` and `run --gateway-image IMAGE` name it.
ARG GO_VERSION=1.26
ARG ENVOY_VERSION=v1.36.2

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/meshgate ./cmd/meshgate

FROM envoyproxy/envoy:${ENVOY_VERSION}
COPY --from=build /out/meshgate /usr/local/bin/meshgate
# Non-root, as the control plane's Deployment requires (runAsNonRoot); Envoy's image has this
# user. Writable state goes to mounted volumes (the control plane's data dir) or /tmp.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/meshgate"]
CMD ["--help"]
