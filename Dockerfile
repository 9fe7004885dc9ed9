# syntax=docker/dockerfile:1
#
# scimbridge and the Atlassian emulator in one multi-stage build.
#
#   docker build -t scimbridge .                                   # the service (last stage)
#   docker build --target atlassian-emulator -t atlassian-emulator .
#
# go-sqlite3 is cgo, so the build stage compiles SQLite with gcc. The binary
# is linked statically (glibc included; osusergo and netgo keep glibc's NSS
# and its dlopen out, sqlite_omit_load_extension keeps SQLite's out), so the
# runtime image needs no libc of its own and does not depend on the build
# image's Debian release.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath \
      -tags 'sqlite_omit_load_extension osusergo netgo' \
      -ldflags '-s -w -linkmode external -extldflags "-static"' \
      -o /out/scimbridge ./cmd/scimbridge \
 && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/atlassian-emulator ./cmd/atlassian-emulator \
 && mkdir -p /out/data

# The emulator: tests, demos and docker-compose only, never production.
FROM gcr.io/distroless/static-debian12:nonroot AS atlassian-emulator
COPY --from=build /out/atlassian-emulator /usr/local/bin/atlassian-emulator
USER 65532:65532
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/atlassian-emulator"]
CMD ["--addr", "0.0.0.0:8090"]

# The service. Mount the config at /etc/scimbridge/scimbridge.yaml with
# `listen: 0.0.0.0:8080` and `database: /data/scimbridge.db`; secrets come
# from the environment (the *_env keys).
FROM gcr.io/distroless/static-debian12:nonroot AS scimbridge
COPY --from=build /out/scimbridge /usr/local/bin/scimbridge
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# No shell or curl in the image: the binary checks itself.
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/scimbridge", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
# The service stops gracefully on SIGTERM (the default stop signal) within
# 30 s; give it more than that before SIGKILL (docker stop -t 40).
ENTRYPOINT ["/usr/local/bin/scimbridge"]
CMD ["serve", "--config", "/etc/scimbridge/scimbridge.yaml"]
