# GPU worker: CUDA-enabled PyTorch, the models, and a Celery worker on the `gpu` queue.
# Build: docker build -f docker/worker.Dockerfile -t implementor-worker .
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1

WORKDIR /app
# The image's torch (with CUDA) satisfies the project's loose torch requirement, so pip keeps it.
COPY pyproject.toml README.md LICENSE ./
COPY config ./config
COPY models ./models
COPY workers ./workers
COPY bot ./bot
COPY implementor ./implementor
COPY bench ./bench
RUN pip install . && python -c "import torch, workers.worker"

RUN useradd --create-home --uid 10001 implementor
USER implementor
# Queues, concurrency and autoscaling come from IMPLEMENTOR_* settings or the command's flags.
CMD ["implementor", "worker", "--queues", "gpu"]
