#pragma once
// The HTTP/1.1 server: Boost.Beast on a small fixed pool of threads sharing one io_context.
// Connections are kept alive; one request is handled at a time per connection. Requests larger
// than the body limit get a 413 problem; unparsable ones a 400; neither reaches a handler.
// Out of descriptors (EMFILE/ENFILE), the server stops accepting for 50 ms at a time (logged once
// per episode) and keeps serving the connections it has; new ones wait in the listen backlog.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "http/message.hpp"

namespace ct::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 1026;
  unsigned threads = 2;
  std::size_t body_limit = 1 << 20;  // bytes
};

// Takes over a connection whose request asks for a WebSocket (Upgrade: websocket), the request read.
using UpgradeHandler = std::function<void(boost::asio::ip::tcp::socket socket, Request request)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();

  // Before start(): who takes WebSocket upgrade requests. Without one they reach the handler as any request.
  void set_upgrade_handler(UpgradeHandler handler);
  // Binds and starts accepting; the threads run until stop(). Fails if the address is taken.
  Status start();
  std::uint16_t port() const;  // the bound port (useful when started with port 0)
  // Stops accepting, closes connections and joins the threads.
  void stop();
  // Blocks until stop() was called, from any thread or a signal.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ct::http
