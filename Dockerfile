# Multi-stage build of the event-manager binary (used by docker-compose.yml).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin event-manager

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/event-manager /usr/local/bin/event-manager
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nobody
CMD ["event-manager", "serve"]
