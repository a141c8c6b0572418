#!/usr/bin/env bash
# Builds llama-cpp-python (the optional fast CPU engine) from its pinned source release into $1 (a venv's python).
# llama.cpp's default build targets the build machine natively; on CPUs with AMX that build crashed on
# the first evaluation (its AMX path), so the build here names the instruction sets itself: AVX2/FMA
# always, AVX-512 (with VNNI and BF16) only where /proc/cpuinfo shows them, AMX never.
# It is optional: if the build fails, the writer's engine `auto` falls back to CTranslate2, with one warning.
set -euo pipefail
PY=${1:?usage: build_llama_cpp.sh VENV_PYTHON}
VERSION=$(grep -E '^llama-cpp-python==' "$(dirname "$0")/llama-cpp.txt" | cut -d= -f3 | cut -d' ' -f1)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }
args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
args+=" -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma) -DGGML_F16C=$(has f16c)"
args+=" -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VNNI=$(has avx512_vnni) -DGGML_AVX512_BF16=$(has avx512_bf16)"
args+=" -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF"
echo "== building llama-cpp-python $VERSION (CMAKE_ARGS: $args); a few minutes"
CMAKE_ARGS="$args" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$PY" -m pip install --quiet --no-deps \
  --no-binary llama-cpp-python --require-hashes -r "$(dirname "$0")/llama-cpp.txt"
