# ticketbot: one image for every role (`run --role web|worker`, `db upgrade`); see compose.yaml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY manifests ./manifests
RUN pip install '.[postgres]' && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home ticketbot
USER ticketbot
WORKDIR /app

# In a container the bot listens on every interface (its default, 127.0.0.1, is for a host).
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000

# /healthz answers 200 while the database is reachable, in every role (a worker serves it too).
# The slim image has no curl: Python asks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

ENTRYPOINT ["ticketbot"]
CMD ["run"]
