#!/usr/bin/env bash
# Build the detector's TensorRT plan on this node's GPU and lay out the GPU model repository in OUT_DIR.
#
# Runs as the Triton pod's initContainer (image target `plan-builder`, NGC tensorrt of the same release as
# the Triton image, so the plan's TensorRT version is the one Triton loads). A plan only runs on the GPU
# model and TensorRT version it was built with, so it is built where it will be served, once per pod start.
#
# Usage: pitchside-build-plan OUT_DIR
# Environment (defaults match model_repository/detector/config.pbtxt; a test keeps them in step):
#   PITCHSIDE_GPU_REPOSITORY  rendered GPU repository (pitchside repo render --profile gpu), copied to OUT_DIR
#   PITCHSIDE_DETECTOR_ONNX   the detector's served graph (uint8 images + LETTERBOX in, NMS inside)
#   PITCHSIDE_MAX_BATCH       largest batch the plan accepts (the GPU profile's detector max_batch_size)
#   PITCHSIDE_OPT_BATCH       batch size TensorRT tunes its kernels for
#   PITCHSIDE_INPUT_DIMS      the images input's dims without the batch, HxWxC
#   PITCHSIDE_FP16            1 builds FP16 kernels where faster (default), 0 keeps FP32
#   PITCHSIDE_WORKSPACE_MIB   TensorRT builder workspace
#   TRTEXEC                   the trtexec binary
# The trtexec flags are those of `pitchside convert onnx-to-trt` (this image's Python is 3.10, older than the
# CLI needs); a test checks they agree with orchestrator.repository.tensorrt.trtexec_command.
set -euo pipefail

out="${1:?usage: pitchside-build-plan OUT_DIR}"
repository="${PITCHSIDE_GPU_REPOSITORY:-/opt/pitchside/model_repository_gpu}"
onnx="${PITCHSIDE_DETECTOR_ONNX:-/opt/pitchside/detector.onnx}"
max_batch="${PITCHSIDE_MAX_BATCH:-64}"
opt_batch="${PITCHSIDE_OPT_BATCH:-32}"
dims="${PITCHSIDE_INPUT_DIMS:-416x416x3}"
fp16="${PITCHSIDE_FP16:-1}"
workspace_mib="${PITCHSIDE_WORKSPACE_MIB:-2048}"
trtexec="${TRTEXEC:-/opt/tensorrt/bin/trtexec}"
input_name="images"
letterbox_name="LETTERBOX"
letterbox_dims="5"

[ -d "$repository/detector" ] || { echo "no detector in GPU repository $repository" >&2; exit 2; }
[ -f "$onnx" ] || { echo "no ONNX graph at $onnx" >&2; exit 2; }

mkdir -p "$out"
cp -R "$repository/." "$out/"
plan="$out/detector/1/model.plan"
mkdir -p "$(dirname "$plan")"

flags=(
  "--onnx=$onnx"
  "--saveEngine=$plan.partial"
  "--minShapes=$input_name:1x$dims,$letterbox_name:1x$letterbox_dims"
  "--optShapes=$input_name:${opt_batch}x$dims,$letterbox_name:${opt_batch}x$letterbox_dims"
  "--maxShapes=$input_name:${max_batch}x$dims,$letterbox_name:${max_batch}x$letterbox_dims"
  "--memPoolSize=workspace:${workspace_mib}M"
  # Build only: the timing run would hold the GPU for nothing before Triton starts.
  "--skipInference"
)
if [ "$fp16" = "1" ]; then
  flags+=("--fp16")
fi

echo "building $plan (max batch $max_batch, fp16=$fp16)"
"$trtexec" "${flags[@]}"
# Written under a temporary name and renamed, so a killed build never leaves a plan Triton would load.
mv "$plan.partial" "$plan"
echo "plan ready: $(du -h "$plan" | cut -f1)"
