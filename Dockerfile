# authprobe in a container: a multi-stage build from this repository alone.
#   docker build -t authprobe --build-arg AUTHPROBE_COMMIT=$(git rev-parse --short=10 HEAD) .
#   docker run --rm --network host authprobe scan http://127.0.0.1:8000/ --user alice:alice-pass-1
# The runtime image holds the binary, CA certificates and a non-root user, nothing else.

FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
# The build context has no .git (see .dockerignore): --version names the commit given here.
ARG AUTHPROBE_COMMIT="unknown commit"
ENV AUTHPROBE_COMMIT=${AUTHPROBE_COMMIT}
COPY . .
RUN cargo build --release --locked -p authprobe \
 && strip target/release/authprobe

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /home/authprobe authprobe
COPY --from=build /src/target/release/authprobe /usr/local/bin/authprobe
USER 10001
WORKDIR /home/authprobe
# Scan history (the dashboard's database): mount a volume here to keep it.
ENV AUTHPROBE_DB=/home/authprobe/data/history.db
RUN mkdir -p /home/authprobe/data
ENTRYPOINT ["authprobe"]
CMD ["--help"]
