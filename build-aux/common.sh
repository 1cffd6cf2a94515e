# Shared set-up for build-aux/run and build-aux/test: install what is
# missing (Debian), then configure and build into _build/.
# Sourced, not executed.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$top/_build"

# Needed to build and run Casement.
build_packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libglib2.0-bin libjson-glib-dev libosinfo-1.0-dev osinfo-db
  libgtk-4-dev libadwaita-1-dev libspice-client-glib-2.0-dev libepoxy-dev libx11-dev libxext-dev libxfixes-dev
  gettext desktop-file-utils appstream
  qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools
)

# Needed by the test suite: a display server, screenshots, the tiny test
# guest (kernel from the Debian archive, busybox initramfs, its static DRM
# cursor helper and SPICE agent), ISO making, the peer viewer for
# benchmarks, software GL and the Flatpak manifest check.
test_packages=(
  xvfb xauth imagemagick xdotool dbus dbus-x11
  xorriso genisoimage wimtools busybox-static cpio gzip libc6-dev libdrm-dev libspice-protocol-dev
  virt-viewer libgl1-mesa-dri flatpak-builder
)

casement_missing_packages () {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  echo "${missing[@]}"
}

casement_install_packages () {
  local missing
  missing=$(casement_missing_packages "$@")
  [ -z "$missing" ] && return 0

  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Casement needs these packages, and this is not a Debian-like system: $missing" >&2
    echo "Install their equivalents with your package manager, then run this again." >&2
    return 1
  fi

  if [ "$(id -u)" -ne 0 ]; then
    echo "Casement needs packages that are not installed. Install them with:" >&2
    echo "  sudo apt-get install $missing" >&2
    return 1
  fi

  echo "Installing: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || return 1
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing || return 1
}

casement_build () {
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" || return 1
  fi
  ninja -C "$build" || return 1
}
