# crmbridge image: one image, the command chooses the role (serve, worker, migrate, …).
#   docker build -t crmbridge .
#   docker run --env-file crmbridge.env -v ./crmbridge.yaml:/etc/crmbridge/crmbridge.yaml:ro \
#       -p 8080:8080 crmbridge serve --config /etc/crmbridge/crmbridge.yaml --host 0.0.0.0
#   docker run --env-file crmbridge.env -v ./crmbridge.yaml:/etc/crmbridge/crmbridge.yaml:ro \
#       crmbridge worker --config /etc/crmbridge/crmbridge.yaml --concurrency 8
# Not built in the development environment (no Docker there); see docs/deployment.md.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/crmbridge \
 && /opt/crmbridge/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/crmbridge/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --home-dir /var/lib/crmbridge --create-home crmbridge
COPY --from=build /opt/crmbridge /opt/crmbridge
ENV PATH=/opt/crmbridge/bin:$PATH PYTHONUNBUFFERED=1
USER crmbridge
WORKDIR /var/lib/crmbridge
EXPOSE 8080
# For the worker role run the container with --no-healthcheck (it serves no /healthz).
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["crmbridge"]
CMD ["serve", "--config", "/etc/crmbridge/crmbridge.yaml", "--host", "0.0.0.0", "--port", "8080"]
