#pragma once
// GET /city/v1/live with Upgrade: websocket: the console's live stream (live/live_stream.hpp).
// Query parameters: tenant (a browser cannot set NGSILD-Tenant on a WebSocket; the header works
// too), and after a reconnection epoch and since, the last ones the client saw.
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "http/message.hpp"

namespace ct::live {
class LiveStream;
}

namespace ct::http {

inline constexpr std::string_view kLiveStreamPath = "/city/v1/live";

// Whether an upgrade request's target is the live stream (its path, whatever the query).
bool is_live_stream_target(std::string_view target);

// Takes over the connection: a 400 problem for bad parameters, else the stream.
void upgrade_live_stream(live::LiveStream& stream, boost::asio::ip::tcp::socket socket, Request request);

}  // namespace ct::http
