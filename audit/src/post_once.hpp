#pragma once
/// A handler posted to the event loop at most once until it has run: the
/// events of one round (the answers that arrived together) may each ask for
/// it, and it runs once, after the handlers that are ready now.

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace rdns::audit {

class PostOnce {
 public:
  /// `handler` runs on `io` unless one is posted already; the owner of this
  /// object must outlive the io_context's handlers, as `this` captures do.
  template <typename Handler>
  void post(boost::asio::io_context& io, Handler handler) {
    if (posted_) return;
    posted_ = true;
    boost::asio::post(io, [this, handler = std::move(handler)]() mutable {
      posted_ = false;
      handler();
    });
  }
  /// A stopped loop drops what was posted: the next post() posts again.
  void reset() { posted_ = false; }

 private:
  bool posted_ = false;
};

}  // namespace rdns::audit
