// Request handlers as C++20 coroutines on Asio: co_await a timer or an asynchronous call without
// holding the connection's I/O thread, then co_return the reply.
//
//   superline::Reply<Text> nap(superline::Call<Text, Shapes::Shared>& call, const Text& in) override {
//     return superline::co_answer(call, server().executor(), [in]() -> boost::asio::awaitable<superline::Reply<Text>> {
//       boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::seconds(1));
//       co_await timer.async_wait(boost::asio::use_awaitable);
//       co_return in;  // or a status
//     });
//   }
//
// The coroutine runs on `executor` (Server::executor(): the handler pool, at least one thread), not
// on the connection's thread; an exception it throws answers INTERNAL and is reported.
// Thread-safety: as Responder (any thread).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <utility>

#include "superline/reply.h"

namespace superline {

template <class T, class R, class Executor, class Coroutine>
Reply<T> co_answer(Call<T, R>& call, const Executor& executor, Coroutine coroutine) {
  boost::asio::co_spawn(executor, std::move(coroutine),
                        [responder = call.defer()](std::exception_ptr thrown, Reply<T> reply) {
                          if (thrown) {
                            try {
                              std::rethrow_exception(thrown);
                            } catch (const std::exception& e) {
                              responder.fail(absl::InternalError(e.what()));  // reported, not shown
                            } catch (...) {
                              responder.fail(absl::InternalError("coroutine threw a non-exception"));
                            }
                          } else if (reply.value()) {
                            responder.reply(*reply.value());
                          } else {
                            responder.fail(reply.error().ok()
                                               ? absl::InternalError("coroutine returned no reply")
                                               : reply.error());
                          }
                        });
  return kDeferred;
}

}  // namespace superline
