# Longboat node image: one static binary on an empty base.
#
# The Docker engines Longboat is built and tested on have no registry, so no
# base image can be pulled: the image is FROM scratch and the binary is built
# on the host first (CGO_ENABLED=0, zone data embedded with -tags timetzdata).
# Do not add a "# syntax=" line: BuildKit would try to pull its frontend.
#
#   make image        # = make build && docker build -t longboat:latest .
#
# The image runs `longboat node start` with every listener on 0.0.0.0 and the
# data in /data (a volume). Settings are the usual LONGBOAT_* environment
# variables or flags after the image name; see docs/operations.md.
FROM scratch

# The label lets scripts/docker-cluster.sh prune Longboat's superseded images
# (and only those).
LABEL org.opencontainers.image.title=longboat \
      org.opencontainers.image.source=https://github.com/longboatdb/longboat

# bin/image-root/ is staged by `make image` (scripts/docker-cluster.sh build):
# it holds only the empty data/ and tmp/ directories, copied with the
# non-root owner so that a new named volume mounted on /data inherits it.
COPY --chown=65532:65532 bin/image-root/ /
COPY bin/longboat /longboat

ENV LONGBOAT_DATA_DIR=/data \
    LONGBOAT_PG_ADDR=0.0.0.0:5433 \
    LONGBOAT_HTTP_ADDR=0.0.0.0:8080 \
    LONGBOAT_RAFT_ADDR=0.0.0.0:7100 \
    LONGBOAT_RPC_ADDR=0.0.0.0:7200 \
    LONGBOAT_GOSSIP_ADDR=0.0.0.0:7300 \
    TMPDIR=/tmp

# 5433 PostgreSQL wire, 8080 HTTP (/health, /metrics), 7100 Raft,
# 7200 inter-node gRPC, 7300 gossip (memberlist: TCP and UDP).
EXPOSE 5433/tcp 8080/tcp 7100/tcp 7200/tcp 7300/tcp 7300/udp

VOLUME ["/data"]
WORKDIR /data
USER 65532:65532

ENTRYPOINT ["/longboat"]
CMD ["node", "start"]
