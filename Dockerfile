# MediaLink in HTTP mode: docker run --env-file .env -p 3000:3000 medialink
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 medialink
WORKDIR /app

# Dependencies first (hash-checked), so code changes reuse this layer.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The package runs from source: no build backend needed in the image.
COPY bot ./bot
ENV PYTHONPATH=/app

USER medialink
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=2)"
CMD ["python", "-m", "bot.cli", "serve"]
