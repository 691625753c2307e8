# Multi-stage build of the event-manager binary (used by docker-compose.yml). The dependencies are
# compiled in a layer of their own, from the manifests and stub sources, so that a change to the
# code alone rebuilds the workspace's crates and nothing else.

# The manifests: Cargo.lock and every Cargo.toml, each crate with an empty lib.rs and main.rs where
# it has them. This stage reruns on any change, but its output, and so the dependency layer below,
# changes only with the manifests (COPY compares contents, not times).
FROM rust:1.95-bookworm AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
    && cp Cargo.toml Cargo.lock /manifests/ \
    && for manifest in crates/*/Cargo.toml; do \
        crate="$(dirname "$manifest")"; \
        mkdir -p "/manifests/$crate/src"; \
        cp "$manifest" "/manifests/$crate/"; \
        if [ -f "$crate/src/lib.rs" ]; then : > "/manifests/$crate/src/lib.rs"; fi; \
        if [ -f "$crate/src/main.rs" ]; then \
            echo 'fn main() {}' > "/manifests/$crate/src/main.rs"; \
        fi; \
    done

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY --from=manifests /manifests ./
RUN cargo build --release --locked --bin event-manager
COPY . .
# The sources keep their own modification times, which may be older than the stubs' build: cargo
# must see them as changed.
RUN find crates -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bin event-manager

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A user of its own, and /data, where the default DATABASE_URL (sqlite://data/event-manager.sqlite3,
# relative to the working directory /) puts the SQLite file: owned by that user, so that the first
# start can create the file. A named volume mounted there starts with the same owner; a bind mount
# must be writable by uid 10001.
RUN groupadd --system --gid 10001 event-manager \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin event-manager \
    && mkdir /data \
    && chown event-manager:event-manager /data
COPY --from=build /src/target/release/event-manager /usr/local/bin/event-manager
WORKDIR /
VOLUME ["/data"]
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
# Numeric, so that orchestrators can tell it is not root (Kubernetes' runAsNonRoot).
USER 10001:10001
# `event-manager health` asks GET /health/ready on BIND_ADDR: no HTTP client in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["event-manager", "health"]
CMD ["event-manager", "serve"]
