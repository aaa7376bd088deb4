# MediaLink's image (docs/deploy.md):
#   docker build -t medialink .
#   docker run --env-file .env -p 3000:3000 --stop-timeout 30 medialink
# tests/test_container.py replays these steps and drives the result; keep the two in step.

# Both stages use the same base: the build stage's virtual environment points at its
# Python. Any CPython 3.11 image with pip works (a mirror, a pinned digest).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build

ENV VENV=/opt/medialink \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src

# Dependencies first, hash-checked, so a code change reuses this layer. The build
# backend goes to this stage's own Python: the runtime environment never sees it.
COPY requirements.lock requirements-build.lock ./
RUN python -m venv --without-pip "$VENV" \
    && python -m pip --python "$VENV/bin/python" install --require-hashes --no-deps -r requirements.lock \
    && python -m pip install --require-hashes --no-deps -r requirements-build.lock

# MediaLink as a wheel: the code, the audit trail's migrations (bot/audit/migrations)
# and the `medialink` command.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m pip wheel --no-deps --no-build-isolation --no-index --wheel-dir dist . \
    && python -m pip --python "$VENV/bin/python" install --no-deps --no-index dist/medialink-*.whl


FROM ${PYTHON_IMAGE}

# Bytecode was compiled at install; a read-only root filesystem cannot take more.
ENV PATH=/opt/medialink/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000

# A numeric user (Kubernetes' runAsNonRoot checks the number) with a home of its own:
# /data is the working directory, where the default SQLite audit trail is written.
RUN groupadd --gid 10001 medialink \
    && useradd --no-log-init --no-create-home --uid 10001 --gid 10001 \
        --home-dir /data --shell /usr/sbin/nologin medialink \
    && install -d -o 10001 -g 10001 -m 0750 /data

COPY --from=build /opt/medialink /opt/medialink

WORKDIR /data
USER 10001:10001
EXPOSE 3000

# /healthz answers on PORT in both modes (HTTP and Socket Mode), asked directly (no
# proxy from the environment). `docker stop` must
# wait longer than the 20 s drain: --stop-timeout 30 (docs/deploy.md, Stopping).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

CMD ["medialink", "serve"]
