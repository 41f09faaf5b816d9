# syntax=docker/dockerfile:1.7
# pitchside images, one Dockerfile, two targets:
#   orchestrator  the `pitchside` CLI (streams frames to Triton, events to AWS)      python:3.11-slim, uid 10001
#   triton        Triton 2.51 (NGC 24.10) + what the Python-backend models import   uid 1000 (triton-server)
# TensorRT plans are built by docker/model-builder.Dockerfile's image (the model-build Job), never in these.
# Build and run commands: docs/DEPLOY.md.

# One NGC release for Triton and TensorRT (docker/model-builder.Dockerfile uses the same): a plan only loads in
# the TensorRT version that built it.
ARG NGC_RELEASE=24.10
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# ---- build: the orchestrator's virtual environment, every dependency pinned ------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY docker/orchestrator-constraints.txt docker/
RUN /opt/venv/bin/pip install --no-cache-dir "setuptools==80.9.0" "wheel==0.45.1"
COPY pyproject.toml README.md ./
COPY orchestrator orchestrator
RUN /opt/venv/bin/pip install --no-cache-dir --constraint docker/orchestrator-constraints.txt . \
    && /opt/venv/bin/python -c "import numpy; assert numpy.__version__ < '2', numpy.__version__"

# ---- orchestrator ----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS orchestrator
RUN groupadd --system --gid 10001 pitchside \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin pitchside
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
# Prometheus metrics at /metrics and health at /healthz.
EXPOSE 9108
ENTRYPOINT ["pitchside"]
CMD ["run", "--config", "/etc/pitchside/pitchside.toml"]

# ---- triton ----------------------------------------------------------------------------------------------
# NGC 24.10 is Triton 2.51, the server the test suite runs embedded, so production serves what CI tested.
# Its Python is 3.10 (pyproject says >=3.11), so the package is not pip-installed here: the modules the
# models import are copied and put on the stub's sys.path with a .pth file (the Python backend stub does not
# honour PYTHONPATH). tests/deploy checks those modules stay importable on Python 3.10.
FROM nvcr.io/nvidia/tritonserver:${NGC_RELEASE}-py3 AS triton
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OPENCV_IO_MAX_IMAGE_PIXELS=67108864
COPY docker/triton-requirements.txt /opt/pitchside/triton-requirements.txt
RUN python3 -m pip install --no-cache-dir --requirement /opt/pitchside/triton-requirements.txt
COPY orchestrator /opt/pitchside/lib/orchestrator
# The import check runs in the stub's own interpreter: a numpy 2 or a missing module fails the build,
# not the first request.
RUN python3 -c "import site; open(site.getsitepackages()[0] + '/pitchside.pth', 'w').write('/opt/pitchside/lib\n')" \
    && python3 -c "import numpy, cv2, onnxruntime; assert numpy.__version__ < '2', numpy.__version__" \
    && python3 -c "import orchestrator.contract, orchestrator.repository.parameters, \
orchestrator.serving.refusal_pacing, orchestrator.vision.frame_input, orchestrator.vision.letterbox, \
orchestrator.vision.onnx_detector, orchestrator.vision.preprocess"
# The CPU profile's repository is baked in; the GPU overlay serves the S3 model store instead (docs/DEPLOY.md).
COPY model_repository /models
USER 1000:1000
EXPOSE 8000 8001 8002
CMD ["tritonserver", "--model-repository=/models", "--http-port=8000", "--grpc-port=8001", "--metrics-port=8002", \
     "--strict-readiness=true", "--exit-on-error=true", "--exit-timeout-secs=25", \
     "--grpc-infer-allocation-pool-size=0"]

