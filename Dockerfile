# syntax=docker/dockerfile:1
# One image holds the `gittix` binary; each Kubernetes Deployment runs one service with
# `gittix serve <service>`. Without arguments it runs embedded mode (every service, SQLite in /data).

# cargo-chef splits dependency compilation from the project's own code, so a change to GitTix
# rebuilds only GitTix: the dependency layer stays cached until Cargo.lock changes.
FROM lukemathwalker/cargo-chef:latest-rust-1-bookworm AS chef
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p gittix \
 && mkdir /empty

# distroless: glibc and CA certificates, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /src/target/release/gittix /usr/local/bin/gittix
COPY --from=builder --chown=nonroot:nonroot /empty /data
USER nonroot
ENV HOST=0.0.0.0 \
    DATA_DIR=/data
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/gittix"]
