# The service image: `docker build -t sanctions-alerts .` then
# `docker run -v alerts-data:/data -e ALERTS_SMTP_URL=... sanctions-alerts`.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY alerts ./alerts
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 alerts \
 && mkdir -p /data /app && chown alerts /data
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /app
# Migrations and templates are read from beside the package's source tree.
COPY migrations ./migrations
COPY templates ./templates
COPY alembic.ini feeds.toml ./
ENV ALERTS_CONFIG=/app/feeds.toml \
    ALERTS_DATABASE_URL=sqlite:////data/alerts.db \
    ALERTS_OUTBOX_DIR=/data/outbox \
    ALERTS_LOG_FORMAT=json \
    ALERTS_RESOURCES_DIR=/app \
    ALERTS_WEB_BIND=0.0.0.0:8080
# The subscriber pages (unsubscribe, confirm, full digests); served when ALERTS_BASE_URL is set.
EXPOSE 8080
USER alerts
VOLUME ["/data"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["alerts"]
CMD ["run"]
