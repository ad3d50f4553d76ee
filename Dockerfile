# A slim image that runs `helpdesk run` as a non-root user.
FROM python:3.11-slim

# The bot listens on every interface of the container, on the port docker-compose.yml publishes;
# compose sets the same two values again, so a HELPDESK_HOST in .env cannot override them.
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

USER 10001
EXPOSE 3000
# Healthy only when /healthz answers on the container's network address at the published port,
# not merely on loopback (bot/surfaces/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "bot.surfaces.healthcheck", "3000"]
CMD ["helpdesk", "run"]
