# Writes OUT: built_probe_sha256() with the SHA-256 of LINUX_PROBE and, when
# this build made it, WINDOWS_PROBE (guest/CMakeLists.txt runs it after
# building them). Run as: cmake -DLINUX_PROBE=... -DWINDOWS_PROBE=... -DOUT=... -P probe-hashes.cmake
file(SHA256 "${LINUX_PROBE}" linux_sha)
set(windows_sha "")
if(WINDOWS_PROBE AND EXISTS "${WINDOWS_PROBE}")
  file(SHA256 "${WINDOWS_PROBE}" windows_sha)
endif()
file(WRITE "${OUT}.tmp"
"// Generated at build time by cmake/probe-hashes.cmake: the SHA-256 of the
// in-guest probes this build made. Do not edit.
#include \"bench/probe_hashes.hpp\"

namespace vpt {

std::string_view built_probe_sha256(bool windows) {
  return windows ? \"${windows_sha}\" : \"${linux_sha}\";
}

}  // namespace vpt
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
