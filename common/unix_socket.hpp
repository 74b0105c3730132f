// A connection to a local stream socket (a guest's serial channel, a Proxmox
// VM's QMP socket), and the file descriptor that closes itself.
#pragma once

#include <stdexcept>
#include <string>

namespace vpt {

// Owns a file descriptor; closes it when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// what() is the reason only ("the socket path is too long", "Connection
// refused"): the caller says what it was connecting for.
class SocketError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A connected AF_UNIX stream socket (close-on-exec). Throws SocketError.
UniqueFd connect_unix_socket(const std::string& path);

}  // namespace vpt
