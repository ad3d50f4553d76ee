# A slim image that runs `helpdesk run` as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HELPDESK_HOST=0.0.0.0 \
    HELPDESK_PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY skills ./skills
RUN pip install --no-compile . && useradd --create-home --uid 10001 helpdesk
COPY intents ./intents
COPY data ./data

USER helpdesk
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"HELPDESK_PORT\", \"3000\")}/healthz', timeout=4)"
CMD ["helpdesk", "run"]
