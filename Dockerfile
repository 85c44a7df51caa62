# The patientgen service image: `docker build -t patientgen .` (multi-stage; the runtime image is
# debian:bookworm-slim with the one binary, run as an unprivileged user). `docker run -p 8000:8000
# patientgen` serves with the embedded SQLite database in the /var/lib/patientgen volume; set
# DATABASE_URL and REDIS_URL for several replicas (deploy/docker-compose.staging.yml).

# --- build: the release binary ---------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# Cargo.toml patches sqlx-core with vendor/sqlx-core (TCP_NODELAY; docs/DECISIONS.md).
COPY vendor ./vendor
# crates/patientgen/Cargo.toml names the deployment tests' source in tests/deploy.
COPY tests ./tests
RUN cargo build --release --locked -p patientgen \
 && install -m 0755 target/release/patientgen /usr/local/bin/patientgen

# --- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/patientgen --create-home \
      --shell /usr/sbin/nologin patientgen
COPY --from=build /usr/local/bin/patientgen /usr/local/bin/patientgen
ENV PATIENTGEN_BIND=0.0.0.0:8000 \
    PATIENTGEN_DATA_DIR=/var/lib/patientgen \
    PATIENTGEN_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/patientgen
VOLUME ["/var/lib/patientgen"]
EXPOSE 8000
# The image has no curl: bash (part of every Debian image) asks the liveness route over
# /dev/tcp on the port of PATIENTGEN_BIND. tests/deploy runs this very command against a server.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${PATIENTGEN_BIND##*:}\" && printf 'GET /api/v1/health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["/usr/local/bin/patientgen"]
CMD ["serve"]
