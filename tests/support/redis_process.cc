#include "redis_process.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace testing_support {
namespace {

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

RedisProcess::RedisProcess() {
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = free_port();
    try {
      launch();
    } catch (const std::exception&) {
      if (attempt == 4) throw;
    }
  }
}

RedisProcess::~RedisProcess() { kill(); }

void RedisProcess::launch() {
  pid_ = fork();
  if (pid_ == 0) {
    const std::string port = std::to_string(port_);
    execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) break;  // exited: port taken, or no redis-server
    // Answered, and by our own child: with tests in parallel another test's redis-server may have
    // taken the port between picking it and binding it.
    auto info = command({"INFO", "server"});
    if (!info.empty() && info[0].find("process_id:" + std::to_string(pid_) + "\r\n") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
}

void RedisProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisProcess::restart() {
  kill();
  launch();
}

void RedisProcess::freeze() { ::kill(pid_, SIGSTOP); }
void RedisProcess::thaw() { ::kill(pid_, SIGCONT); }

std::vector<std::string> RedisProcess::command(const std::vector<std::string>& argv) const {
  timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return {};
  }
  redisSetTimeout(c, timeout);
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  std::vector<std::string> out;
  if (reply != nullptr) {
    auto flatten = [&out](const redisReply* r) {
      if (r->type == REDIS_REPLY_INTEGER) {
        out.push_back(std::to_string(r->integer));
      } else if (r->str != nullptr) {
        out.emplace_back(r->str, r->len);
      }
    };
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < reply->elements; ++i) flatten(reply->element[i]);
    } else {
      flatten(reply);
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return out;
}

size_t RedisProcess::pipeline(const std::vector<std::vector<std::string>>& commands) const {
  timeval timeout{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return 0;
  }
  redisSetTimeout(c, timeout);
  for (const auto& argv : commands) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data());
  }
  size_t answered = 0;
  for (size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) break;
    if (static_cast<redisReply*>(reply)->type != REDIS_REPLY_ERROR) ++answered;
    freeReplyObject(reply);
  }
  redisFree(c);
  return answered;
}

}  // namespace testing_support
