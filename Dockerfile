# Mediastudio in a container: the studio on port 8750, data in the /data volume.
#   docker build -t mediastudio .
#   docker run -p 8750:8750 -v mediastudio-data:/data mediastudio
# Opened by a name (http://studio.lan:8750/ rather than an IP address)? Name it, against DNS rebinding:
#   docker run … -e MEDIASTUDIO_ALLOWED_HOSTS=studio.lan mediastudio
# HTTPS, a proxy in front, systemd and the data folder's layout: docs/deploy.md.
# For NVIDIA GPUs run with --gpus all; torch's default Linux wheel includes CUDA. For a small
# CPU-only image pass a CPU build, e.g. --build-arg TORCH="torch==2.13.0+cpu" with your index.
FROM python:3.11-slim

ARG TORCH="torch"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MEDIASTUDIO_DATA_DIR=/data

RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 studio \
 && mkdir /data && chown studio:studio /data

WORKDIR /src
# torch first and on its own layer: it is by far the largest dependency.
RUN pip install "$TORCH"
# web_dist/ is committed, so no Node.js is needed to build the image.
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY web_dist ./web_dist
COPY examples ./examples
RUN pip install . && rm -rf /src

USER studio
WORKDIR /home/studio
VOLUME ["/data"]
EXPOSE 8750
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8750/api/v1/health', timeout=4)"
CMD ["mediastudio", "serve", "--host", "0.0.0.0", "--port", "8750", "--no-open"]
