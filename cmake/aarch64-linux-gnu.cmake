# Cross-compiling for the camera (64-bit ARM Linux) on Debian with its cross toolchain
# (g++-aarch64-linux-gnu) and multiarch :arm64 -dev packages; scripts/cross-test uses it:
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc-12)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++-12)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch: the arm64 libraries are in /usr/lib/aarch64-linux-gnu of this very system and their
# headers in /usr/include (and /usr/include/aarch64-linux-gnu), so the root is / and the library
# architecture above keeps find_library and find_package off the host's /usr/lib/x86_64-linux-gnu.
# Programs (pkg-config, the tests' tools) are the host's.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the arm64 .pc files (and the architecture-independent ones), never the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# Test programs run under user-mode QEMU (Debian's qemu-user). -L / and not -L /usr/aarch64-linux-gnu:
# with the latter threaded programs hang under qemu 7.2 on bookworm; / has the arm64 loader
# /lib/ld-linux-aarch64.so.1 and libraries from libc6:arm64 and the other :arm64 packages.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/)
