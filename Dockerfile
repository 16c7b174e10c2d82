# syntax=docker/dockerfile:1
# Kỳ họp — the app image: `kyhop serve` (one uvicorn worker) as an unprivileged user. Settings come from
# KYHOP_* variables (docs/DEPLOY.md); docker-compose.yml runs two replicas of it behind the proxy.
#
#   docker build -t kyhop:0.1.0 .
#
# Two stages: the build stage installs the project from pyproject.toml into a virtualenv, the final stage copies
# only that virtualenv (no pip cache, no sources, no build tools).

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# The pages' npm packages (pdf.js for the tablet's reader, idb, @noble/* for the ballot crypto), from the
# lockfile; only what the server serves under /vendor/ goes on (server/app.py VENDOR), no dev packages.
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/kyhop
ENV PATH=/opt/kyhop/bin:$PATH
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes. The packages are empty
# here so that installing the project pulls every dependency it declares; the real code replaces them below.
COPY pyproject.toml README.md ./
RUN for pkg in meeting documents server clients record ballotcrypto; do mkdir -p "$pkg" && touch "$pkg/__init__.py"; done \
    && pip install --upgrade pip \
    && pip install . \
    && pip uninstall --yes kyhop
# The project itself, installed (not editable) from pyproject.toml.
COPY meeting ./meeting
COPY documents ./documents
COPY server ./server
COPY clients ./clients
COPY record ./record
COPY ballotcrypto ./ballotcrypto
RUN pip install --no-deps . \
    && python -c "import server.app, server.cli"
# Beside the installed packages, where server/app.py looks for node_modules (NODE_MODULES).
COPY --from=web /web/node_modules /tmp/node_modules
RUN target="$(python -c 'import server.app as a; print(a.NODE_MODULES)')" \
    && mkdir -p "$target" \
    && for pkg in $(python -c 'import server.app as a; print(" ".join(a.VENDOR))'); do \
         mkdir -p "$(dirname "$target/$pkg")" && cp -r "/tmp/node_modules/$pkg" "$target/$pkg"; done \
    && rm -rf /tmp/node_modules

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/kyhop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    KYHOP_HOST=0.0.0.0 \
    KYHOP_PORT=8000 \
    KYHOP_DATA_DIR=/var/lib/kyhop
# The record's PDFs are set in Tinos (record/pdf.py): Debian's fonts-croscore, as `make fonts` installs it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-croscore \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 kyhop \
    && useradd --system --uid 10001 --gid kyhop --home-dir /var/lib/kyhop --no-create-home \
       --shell /usr/sbin/nologin kyhop \
    && install -d -o kyhop -g kyhop -m 0750 /var/lib/kyhop
COPY --from=build /opt/kyhop /opt/kyhop
COPY --chmod=0755 deploy/manage.py /opt/kyhop/bin/kyhop-manage
USER kyhop:kyhop
WORKDIR /var/lib/kyhop
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('KYHOP_PORT', '8000') + '/api/health', timeout=3)"]
CMD ["kyhop", "serve"]
