#!/usr/bin/env bash
# Prints the first image builder that works here: buildah, podman, or docker
# with a reachable daemon. Installs buildah with apt-get when none does.
set -euo pipefail
if command -v buildah >/dev/null 2>&1; then echo buildah; exit 0; fi
if command -v podman >/dev/null 2>&1; then echo podman; exit 0; fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; exit 0; fi
echo "no image builder: installing buildah with apt-get" >&2
apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
echo buildah
