# handoff as a container image: a static binary on distroless, run as the
# unprivileged nonroot user. The image holds no credential; pass them at run
# time through the environment, as in CI.
#
#   docker build -t handoff \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" .
#   docker run --rm -v "$PWD:/repo:ro" -w /repo \
#     -e INFISICAL_CLIENT_ID -e INFISICAL_CLIENT_SECRET -e GITHUB_APP_PRIVATE_KEY \
#     handoff plan
#
# git is not in the image: set GITHUB_SHA for the commit recorded in plans
# and manifests.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY cmd ./cmd
COPY internal ./internal
COPY schema ./schema
# The same -ldflags as the Makefile's build target.
ARG VERSION=dev
ARG COMMIT=unknown
ARG TARGETOS
ARG TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/handoff ./cmd/handoff

# CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/handoff /handoff
USER nonroot
ENTRYPOINT ["/handoff"]
