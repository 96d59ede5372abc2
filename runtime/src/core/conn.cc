#include "superline/conn.h"

#include <algorithm>

#include "server_frames.h"
#include "superline/internal/log.h"
#include "superline/internal/text.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace superline {

Conn::Conn(std::string id, int role, std::string_view role_name, std::any ctx, std::string user_id,
           std::weak_ptr<Outbox> outbox, Wire wire, std::size_t max_outbound_bytes, const LogSink* log)
    : id_(std::move(id)),
      role_(role),
      role_name_(role_name),
      ctx_(std::move(ctx)),
      user_id_(std::move(user_id)),
      outbox_(std::move(outbox)),
      wire_(wire),
      max_outbound_bytes_(max_outbound_bytes),
      log_(log),
      connected_at_(std::chrono::system_clock::now()) {}

void Conn::refuse_oversize(const EncodedFrame& frame) const {
  static KindThrottle throttle;
  log_throttled(throttle, log_ ? *log_ : default_log_sink(), LogLevel::kWarning,
                "dropped a frame over the connection's outbound limit",
                {{"conn", clip(id_)}, {"bytes", cat(frame.in(wire_).size())}, {"limit", cat(max_outbound_bytes_)}});
}

absl::Status Conn::set_env(const google::protobuf::Message& env) {
  if (env_type_ == nullptr || env.GetDescriptor() != env_type_->GetDescriptor()) {
    return absl::FailedPreconditionError(cat("role '", role_name_, "' has ",
                                             env_type_ ? cat("env ", env_type_->GetDescriptor()->full_name()) : "no env",
                                             ", not ", env.GetDescriptor()->full_name()));
  }
  if (std::vector<ValidationIssue> issues = check_constraints(env); !issues.empty()) {
    return validation_error(std::move(issues));
  }
  if (absl::Status fits = check_size(*env_frame(wire_, &env), max_outbound_bytes_); !fits.ok()) return fits;
  std::shared_ptr<google::protobuf::Message> copy(env.New());
  copy->CopyFrom(env);
  replace_env(std::move(copy));
  return absl::OkStatus();
}

void Conn::replace_env(std::shared_ptr<const google::protobuf::Message> env) {
  SharedFrame frame = env_frame(wire_, env.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    env_ = std::move(env);
  }
  send(std::move(frame));
}

bool Conn::take_token(double per_second) {
  const auto now = std::chrono::steady_clock::now();
  if (tokens_ < 0) {
    tokens_ = per_second;  // a full bucket: bursts of up to one second's worth
  } else {
    tokens_ =
        std::min(per_second, tokens_ + per_second * std::chrono::duration<double>(now - refilled_).count());
  }
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

std::vector<std::string> Conn::channels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {channels_.begin(), channels_.end()};
}

bool Conn::join_channel(const std::string& channel) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;  // a late join after close must not leak a membership
  return channels_.insert(channel).second;
}

bool Conn::leave_channel(const std::string& channel) {
  std::lock_guard<std::mutex> lock(mu_);
  return channels_.erase(channel) > 0;
}

std::vector<std::string> Conn::take_channels() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  std::vector<std::string> out(channels_.begin(), channels_.end());
  channels_.clear();
  return out;
}

}  // namespace superline
