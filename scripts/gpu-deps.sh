#!/usr/bin/env bash
# Gathers, on a Debian machine set up by scripts/setup.sh, what a GPU machine
# without a package registry lacks to build lrtune: the header-only libraries
# (CLI11, toml++, nlohmann-json), SQLite (headers and static library) and
# GoogleTest's source, into .gpu-deps/ (ignored by git). Copy or carry that
# folder to the GPU machine with the repository; scripts/gpu.sh uses it there.
#
#   scripts/gpu-deps.sh [--data DIR]
#
# --data DIR also takes a slice of real CIFAR-10 from DIR (data_batch_1.bin and
# the first 5,000 test images, 46 MB) for gpu.sh's accuracy comparisons;
# without it gpu.sh generates a synthetic data set of the official size there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/.gpu-deps
data=""
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    *) echo "usage: $0 [--data CIFAR10_DIR]" >&2; exit 2 ;;
  esac
done

need() {
  [[ -e $1 ]] || { echo "gpu-deps: $1 is missing; run scripts/setup.sh first" >&2; exit 1; }
}
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
for p in /usr/include/CLI /usr/include/toml++ /usr/include/nlohmann /usr/include/sqlite3.h \
         /usr/lib/$multiarch/libsqlite3.a /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json \
         /usr/src/googletest/CMakeLists.txt; do
  need "$p"
done

rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib/cmake/tomlplusplus" "$dest/share/cmake" "$dest/src"
cp -r /usr/include/CLI /usr/include/toml++ /usr/include/nlohmann "$dest/include/"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$dest/include/"
# Static: the GPU machine may have no libsqlite3.so at all. CMake's FindSQLite3
# finds include/sqlite3.h and lib/libsqlite3.a under the prefix.
cp "/usr/lib/$multiarch/libsqlite3.a" "$dest/lib/"
# These two config packages locate their headers relative to themselves.
cp -r /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json "$dest/share/cmake/"
# Debian builds toml++ as a shared library; on the GPU machine it is used
# header-only (the same headers, TOML_HEADER_ONLY=1), so no library travels.
cat > "$dest/lib/cmake/tomlplusplus/tomlplusplusConfig.cmake" <<'EOF'
# toml++ header-only, from the headers beside this prefix (made by scripts/gpu-deps.sh).
get_filename_component(_toml_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET tomlplusplus::tomlplusplus)
  add_library(tomlplusplus::tomlplusplus INTERFACE IMPORTED)
  set_target_properties(tomlplusplus::tomlplusplus PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_toml_prefix}/include"
    INTERFACE_COMPILE_DEFINITIONS "TOML_HEADER_ONLY=1")
endif()
set(tomlplusplus_FOUND TRUE)
EOF
# GoogleTest is built there, with the compiler and C++ ABI of that LibTorch.
cp -r /usr/src/googletest "$dest/src/googletest"

if [[ -n $data ]]; then
  mkdir -p "$dest/cifar"
  cp "$data/data_batch_1.bin" "$dest/cifar/"
  head -c $((5000 * 3073)) "$data/test_batch.bin" > "$dest/cifar/test_batch.bin"
fi
chmod -R u+w "$dest"
du -sh "$dest" | sed 's/^/gpu-deps: /'
echo "gpu-deps: ready; carry .gpu-deps with the repository and run scripts/gpu.sh there"
