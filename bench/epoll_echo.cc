// epoll_echo: the physical reference for request/response (workload W5). One thread, one epoll, no
// framework: it upgrades WebSocket connections, answers every superline.v1 `req` with a `res` of the
// same id, and does nothing else (no contract, no JSON parser, no rooms). loadgen's `echo` workload
// drives it exactly as it drives chat_server, so their ratio is what the framework costs.
//
//   epoll_echo [--port P]      prints "listening on 127.0.0.1:PORT"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/websocket/detail/hybi13.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

struct Client {
  std::string in;
  std::string out;
  bool upgraded = false;
};

void append_frame(std::string& out, std::string_view payload) {
  out += static_cast<char>(0x81);
  if (payload.size() < 126) {
    out += static_cast<char>(payload.size());
  } else {
    out += static_cast<char>(126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  }
  out += payload;
}

// Upgrades once the request is complete; false if it is not a WebSocket upgrade.
bool handshake(Client& c) {
  const size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) return true;
  const std::string head = c.in.substr(0, end);
  c.in.erase(0, end + 4);
  const size_t k = head.find("Sec-WebSocket-Key: ");
  if (k == std::string::npos) return false;
  const std::string key = head.substr(k + 19, head.find("\r\n", k) - k - 19);
  boost::beast::websocket::detail::sec_ws_accept_type accept;
  boost::beast::websocket::detail::make_sec_ws_accept(accept, key);
  c.out +=
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Accept: ";
  c.out.append(accept.data(), accept.size());
  if (head.find("superline.v1") != std::string::npos) c.out += "\r\nSec-WebSocket-Protocol: superline.v1";
  c.out += "\r\n\r\n";
  append_frame(c.out, R"({"t":"env","d":null})");
  c.upgraded = true;
  return true;
}

// Answers every complete frame in c.in; false on a close frame.
bool frames(Client& c) {
  size_t pos = 0;
  while (c.in.size() - pos >= 6) {
    const auto* p = reinterpret_cast<const uint8_t*>(c.in.data() + pos);
    const uint8_t opcode = p[0] & 0x0F;
    uint64_t len = p[1] & 0x7F;
    size_t header = 2;
    if (len == 126) {
      len = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      return false;  // never sent by loadgen's echo
    }
    if (c.in.size() - pos < header + 4 + len) break;
    char* payload = c.in.data() + pos + header + 4;
    for (size_t i = 0; i < len; ++i) payload[i] ^= static_cast<char>(p[header + (i & 3)]);
    pos += header + 4 + len;
    if (opcode == 0x8) return false;
    const std::string_view text(payload, len);
    const size_t at = text.find(R"("i":)");
    if (opcode == 0x1 && text.find(R"("t":"req")") != std::string_view::npos &&
        at != std::string_view::npos) {
      const size_t end = text.find_first_not_of("0123456789", at + 4);
      append_frame(c.out,
                   "{\"t\":\"res\",\"i\":" + std::string(text.substr(at + 4, end - at - 4)) + ",\"d\":{}}");
    }
  }
  c.in.erase(0, pos);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  if (argc == 3 && std::string(argv[1]) == "--port") port = static_cast<uint16_t>(std::atoi(argv[2]));
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 4096) != 0) {
    std::perror("epoll_echo: listen");
    return 1;
  }
  socklen_t addr_len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len);
  std::printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  const int ep = epoll_create1(0);
  epoll_event ev{EPOLLIN, {.fd = listener}};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::unordered_map<int, Client> clients;
  static char buffer[64 * 1024];
  epoll_event events[256];
  for (;;) {
    const int n = epoll_wait(ep, events, 256, -1);
    for (int e = 0; e < n; ++e) {
      const int fd = events[e].data.fd;
      if (fd == listener) {
        for (int c; (c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{EPOLLIN, {.fd = c}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          clients[c];
        }
        continue;
      }
      Client& c = clients[fd];
      const ssize_t got = read(fd, buffer, sizeof buffer);
      bool keep = got > 0;
      if (keep) {
        c.in.append(buffer, static_cast<size_t>(got));
        if (!c.upgraded) keep = handshake(c);
        if (keep && c.upgraded) keep = frames(c);
      }
      // Replies leave in one write per read; a reply the kernel cannot take now is dropped, which
      // loadgen would report (it never happens at these sizes).
      if (keep && !c.out.empty())
        keep = write(fd, c.out.data(), c.out.size()) == static_cast<ssize_t>(c.out.size());
      c.out.clear();
      if (!keep) {
        close(fd);
        clients.erase(fd);
      }
    }
  }
}
