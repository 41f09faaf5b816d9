# syntax=docker/dockerfile:1.7
# The model pipeline's GPU build image, for the Kubernetes Job k8s/jobs/model-build: the same tools the CI
# workflow's GPU job sets up in the same NGC image (.github/workflows/model.yml), so both run the same commands.
#   trtexec and TensorRT's Python bindings   NGC tensorrt, the release of the Triton image (a plan only loads in
#                                            the TensorRT that built it; a test keeps the releases equal)
#   polygraphy, ONNX Runtime                 in the image's Python 3.10 (it has TensorRT's bindings), for the
#                                            parity check `pitchside model validate --plan` runs
#   pitchside                                in its own Python 3.11 virtual environment (uv), the orchestrator
#                                            image's pins, on PATH as the entrypoint
#   the model repository, the golden frames  /opt/pitchside/model_repository (the Job copies it to scratch) and
#                                            /opt/pitchside/media (model validate --golden)
# Build from the repository root (BuildKit reads model-builder.Dockerfile.dockerignore beside this file):
#   docker buildx build -f docker/model-builder.Dockerfile -t "$REGISTRY/model-builder:$VERSION" --push .
ARG NGC_RELEASE=24.10
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.5.11

FROM ${UV_IMAGE} AS uv

FROM nvcr.io/nvidia/tensorrt:${NGC_RELEASE}-py3 AS model-builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_INSTALL_DIR=/opt/python
COPY --from=uv /uv /usr/local/bin/uv
RUN python3 -m pip install --no-cache-dir "polygraphy==0.49.26" "onnxruntime==1.19.2"
WORKDIR /opt/pitchside/src
COPY docker/orchestrator-constraints.txt docker/
COPY pyproject.toml README.md ./
COPY orchestrator orchestrator
RUN uv venv --python 3.11 /opt/pitchside/venv \
    && uv pip install --python /opt/pitchside/venv/bin/python --constraint docker/orchestrator-constraints.txt . \
    && /opt/pitchside/venv/bin/python -c "import numpy; assert numpy.__version__ < '2', numpy.__version__"
COPY model_repository /opt/pitchside/model_repository
COPY media /opt/pitchside/media
ENV PATH=/opt/pitchside/venv/bin:/opt/tensorrt/bin:$PATH
WORKDIR /tmp
USER 1000:1000
ENTRYPOINT ["pitchside"]
CMD ["--help"]
