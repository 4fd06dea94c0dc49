# syntax=docker/dockerfile:1
# sfprocessor container image (docs/deployment.md):
#   docker build -t sfprocessor .
#   docker run --rm -v sysflow-sock:/sock sfprocessor
# The runtime image holds exactly what `npm pack` publishes plus its production dependencies, laid out
# in the reference image's locations by deploy/install.sh, and runs as uid 1001.
ARG NODE_IMAGE=node:20-slim

#---------------------------------------------------------------------------------------------------
# build: compile, then pack and install the package as a user would get it
#---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
# The socket driver's native reader (native/seqpacket.c) is compiled here, with node-gyp: the runtime
# image gets the compiled addon, not the compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the package's `prepare` (the build) needs the sources, copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund
# The sources and the packaged files (.dockerignore lets in nothing else).
COPY . .
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir -p /opt/sfprocessor \
 && tar -xzf /tmp/sfprocessor-*.tgz -C /opt/sfprocessor --strip-components=1 \
 && cp package-lock.json /opt/sfprocessor/ \
 && cd /opt/sfprocessor \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm run install \
 && test -f build/Release/sf_seqpacket.node \
 && find build -mindepth 1 -maxdepth 2 ! -path build/Release ! -path build/Release/sf_seqpacket.node -exec rm -rf {} +

#---------------------------------------------------------------------------------------------------
# runtime
#---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="sfprocessor" \
      org.opencontainers.image.description="SysFlow processor: SysFlow telemetry through Falco-syntax policies to JSON/ECS exporters" \
      org.opencontainers.image.licenses="Apache-2.0"

# The reference image's variables (the entry point turns them into flags; empty = flag left out).
ENV NODE_ENV=production \
    LOG_LEVEL=info \
    DRIVER=socket \
    DRIVER_DIR=/usr/local/sysflow/resources/drivers \
    PLUGIN_DIR=/usr/local/sysflow/resources/plugins \
    CONFIG_PATH=/usr/local/sysflow/conf/pipeline.json \
    INPUT_PATH=/sock/sysflow.sock \
    PATH=/usr/local/sysflow/bin:$PATH

COPY --from=build /opt/sfprocessor /usr/local/sysflow/lib/sfprocessor

# Files stay owned by root (the service cannot change its own policies or plugins); only /sock is the
# service user's.
RUN sh /usr/local/sysflow/lib/sfprocessor/deploy/install.sh \
 && groupadd --system --gid 1001 sysflow \
 && useradd --system --uid 1001 --gid 1001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sysflow \
 && mkdir -p /sock \
 && chown 1001:1001 /sock \
 && chmod 0700 /sock

VOLUME /sock
WORKDIR /usr/local/sysflow/bin
USER 1001:1001
# SIGTERM drains the pipeline (exit 0); give it time: docker stop -t 60, compose stop_grace_period.
STOPSIGNAL SIGTERM
# Healthy while the socket driver listens (the socket file exists only then).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD test "$DRIVER" != socket || test -S "$INPUT_PATH"
ENTRYPOINT ["/bin/sh", "/usr/local/sysflow/lib/sfprocessor/deploy/docker-entrypoint.sh"]
CMD []
