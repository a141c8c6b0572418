# GPU worker: CUDA-enabled PyTorch, the models, and a Celery worker on the `gpu` queue.
# Build: docker build -f docker/worker.Dockerfile -t implementor-worker .
# The project's transformers (5.x) disables itself below PyTorch 2.6, so the base image is 2.7.
FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1

WORKDIR /app
# The image's torch (with CUDA) satisfies the project's `torch>=2.6`, so pip keeps it.
COPY pyproject.toml README.md LICENSE ./
COPY contracts ./contracts
COPY config ./config
COPY models ./models
COPY workers ./workers
COPY learning ./learning
COPY bot ./bot
COPY implementor ./implementor
COPY bench ./bench
RUN pip install .
# The build fails here, not at the first job, if transformers refuses this torch or a bundled model
# does not load (on the CPU: no GPU is visible while an image builds).
RUN HF_HUB_OFFLINE=1 python -c "import torch, transformers, workers.worker; \
from models.pipeline import ColleaguePipeline, PipelineSpec; \
ColleaguePipeline.load(PipelineSpec(device='cpu')); print('torch', torch.__version__, 'transformers', transformers.__version__)"

# /data, /learning, /models: the learner's volumes (the bot's store, harvested sets, model versions),
# created here so that fresh named volumes belong to the user that writes them.
RUN useradd --create-home --uid 10001 implementor && mkdir /data /learning /models \
 && chown implementor /data /learning /models
USER implementor
# Queues, concurrency and autoscaling come from IMPLEMENTOR_* settings or the command's flags.
CMD ["implementor", "worker", "--queues", "gpu"]
