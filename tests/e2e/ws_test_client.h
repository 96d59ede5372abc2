// Test support for end-to-end tests: a raw superline.v1 WebSocket client whose every wait has a
// deadline, and a handle on a real chat_server process started on a free loopback port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2e {

using namespace std::chrono_literals;

class WsTestClient {
 public:
  struct Dial {
    bool upgraded = false;
    int http_status = 0;      // when the upgrade was refused
    std::string subprotocol;  // the server's Sec-WebSocket-Protocol, if any
    std::string contract;     // the server's Superline-Contract, if any
    std::unique_ptr<WsTestClient> client;
  };

  // Upgrades ws://127.0.0.1:<port><target>, offering `subprotocol` if not empty.
  static Dial dial(uint16_t port, const std::string& target, const std::string& subprotocol = "");
  // dial() that must succeed; also consumes the env frame.
  static std::unique_ptr<WsTestClient> open(uint16_t port, const std::string& target);

  ~WsTestClient();

  void send(const std::string& text, bool binary = false);
  // The next frame, or nullopt on timeout or close. Pings are answered unless answer_pings(false).
  std::optional<std::string> read(std::chrono::milliseconds timeout = 2s);
  // Reads until a frame contains `needle`, keeping the frames it passes over for later reads;
  // nullopt if none does before the deadline.
  std::optional<std::string> read_until(std::string_view needle, std::chrono::milliseconds timeout = 2s);
  // True if no frame other than pings arrives within `window`.
  bool quiet_for(std::chrono::milliseconds window);
  // Request helper: sends a req with a fresh id and returns its res/err frame.
  std::optional<std::string> request(const std::string& method, const std::string& data_json,
                                     std::chrono::milliseconds timeout = 2s);
  void answer_pings(bool on) { answer_pings_ = on; }
  bool closed() const { return closed_; }
  uint16_t close_code() const { return close_code_; }
  // Waits for the server to close the connection; true if it did.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  struct State;
  explicit WsTestClient(std::unique_ptr<State> state);
  void start_write();
  std::unique_ptr<State> state_;
  bool answer_pings_ = true;
  bool closed_ = false;
  uint16_t close_code_ = 0;
  int next_id_ = 0;
  std::deque<std::string> backlog_;  // frames read_until passed over, returned first by read()
};

// A raw WebSocket client on a blocking socket, for byte-level tests (conformance, chaos): it sends
// whatever bytes it is given and parses the server's frames itself. One thread may send while
// another reads.
class RawWsClient {
 public:
  enum Opcode : uint8_t { kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };
  struct Frame {
    uint8_t opcode;
    std::string payload;
  };
  // A client frame masked with a fixed key; `rsv` sets reserved bits.
  static std::string frame(uint8_t opcode, const std::string& payload, bool fin = true, uint8_t rsv = 0);

  // Connects and upgrades ws://127.0.0.1:<port><target>; consumes the env frame. A
  // `receive_buffer` above 0 sets the socket's SO_RCVBUF first (a reader that lags in few bytes).
  explicit RawWsClient(uint16_t port, const std::string& target = "/?role=user&name=raw",
                       int receive_buffer = 0);
  ~RawWsClient();
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;
  bool upgraded() const { return upgraded_; }

  void send(const std::string& bytes);
  // Sends in pieces of `chunk` bytes, each its own write.
  void send_split(const std::string& bytes, size_t chunk);
  // The next frame from the server; nullopt on timeout or end of stream.
  std::optional<Frame> read(std::chrono::milliseconds timeout = 3s);
  // Reads until a close frame: its code (1005 for an empty one), or 0 if none came.
  uint16_t close_code(std::chrono::milliseconds timeout = 3s);
  // Reads until a text frame containing `needle`; false on close or timeout.
  bool answered(const std::string& needle);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool upgraded_ = false;
  std::string in_;
};

// Sends raw bytes to 127.0.0.1:<port> and returns what comes back before the peer closes or
// `timeout` passes.
std::string raw_exchange(uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout = 2s);

// One HTTP/1.1 request to 127.0.0.1:<port>, answered and closed (static files, the admin port).
// An empty status when nothing listens there.
struct HttpResponse {
  std::string status;  // "HTTP/1.1 200 OK"
  std::string head;    // the header block
  std::string body;
};
HttpResponse http_request(uint16_t port, const std::string& target, const std::string& method = "GET");

// How a ChatServerProcess is started besides its arguments.
struct ProcessLaunch {
  int max_fds = 0;  // above 0: the process's RLIMIT_NOFILE
  bool capture_stderr = false;  // keep what it writes to stderr for stderr_text()
  // The test reads the process's RSS: in an ASan build, freed memory is not held in quarantine
  // (it would count as resident); redzones still catch overflows.
  bool measure_memory = false;
  std::string binary;  // another server binary than chat_server (a later version of the contract)
};

// A chat_server process on a free loopback port, stopped (SIGTERM) on destruction.
class ChatServerProcess {
 public:
  explicit ChatServerProcess(std::vector<std::string> extra_args = {}, uint16_t port = 0,
                             ProcessLaunch launch = {});
  ~ChatServerProcess();
  uint16_t port() const { return port_; }
  // The admin listener's port, when started with --admin-port; else 0.
  uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, then the exit status (-1 if it had to be killed).
  int stop(std::chrono::milliseconds grace = 5s);
  // Everything the process wrote to stderr so far (ProcessLaunch::capture_stderr).
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  int stdout_fd_ = -1;  // kept open so the server's later output never meets a closed pipe
  std::string stderr_path_;
};

// A process as /proc tells it: resident memory (KiB), CPU time used (user + system, ms), open
// file descriptors. -1 if unreadable.
long rss_kb(pid_t pid);
long cpu_ms(pid_t pid);
int open_fds(pid_t pid);

// Substring helper for assertions on JSON frames.
inline bool has(const std::optional<std::string>& frame, std::string_view needle) {
  return frame && frame->find(needle) != std::string::npos;
}

}  // namespace e2e
