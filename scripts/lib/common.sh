# Shared shell helpers for the setup scripts. Source it; it defines functions only.

# Folder for built artefacts that outlive a checkout (models, native builds, test binaries).
STREAMCLUSTER_CACHE=${STREAMCLUSTER_CACHE:-$HOME/.cache/streamcluster}
export STREAMCLUSTER_CACHE

log() { printf '[setup] %s\n' "$*" >&2; }

# Installs the named Debian packages that are not installed yet. apt-get update runs once per call
# and only when something is missing.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
