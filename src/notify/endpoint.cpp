#include "notify/endpoint.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

namespace ct::notify {
namespace {

Problem refused(std::string why) { return bad_request("notification.endpoint.uri: " + std::move(why)); }

}  // namespace

Result<EndpointAddress> parse_endpoint_uri(std::string_view uri) {
  if (uri == kWebSocketOnlyUri) {
    EndpointAddress out;
    out.transport = Transport::WebSocketOnly;
    out.key = std::string(kWebSocketOnlyUri);
    return out;
  }
  auto parsed = boost::urls::parse_absolute_uri(uri);
  if (!parsed) return refused("\"" + std::string(uri.substr(0, 200)) + "\" is not an absolute URI");
  EndpointAddress out;
  const auto scheme = parsed->scheme_id();
  std::uint16_t default_port = 0;
  if (scheme == boost::urls::scheme::http) {
    out.transport = Transport::Http;
    default_port = 80;
  } else if (scheme == boost::urls::scheme::https) {
    out.transport = Transport::Https;
    default_port = 443;
  } else if (parsed->scheme() == "mqtt") {
    out.transport = Transport::Mqtt;
    default_port = 1883;
  } else {
    return refused("the scheme \"" + std::string(parsed->scheme()) +
                   "\" is not supported (http, https, mqtt, or " + std::string(kWebSocketOnlyUri) + ")");
  }
  if (!parsed->has_authority() || parsed->host().empty()) return refused("the URI has no host");
  out.host = parsed->host_name();
  if (parsed->host_type() == boost::urls::host_type::ipv6) out.host = parsed->host_ipv6_address().to_string();
  else if (parsed->host_type() == boost::urls::host_type::ipv4) out.host = parsed->host_ipv4_address().to_string();
  out.port = default_port;
  if (parsed->has_port()) {
    const auto text = parsed->port();
    unsigned port = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535)
      return refused("the port \"" + std::string(text) + "\" is not a number from 1 to 65535");
    out.port = static_cast<std::uint16_t>(port);
  }
  if (out.transport == Transport::Mqtt) {
    std::string topic = parsed->path();  // percent-decoded
    if (!topic.empty() && topic.front() == '/') topic.erase(0, 1);
    if (topic.empty()) return refused("an mqtt URI needs a topic: mqtt://host:port/topic");
    if (topic.find_first_of("+#") != std::string::npos) return refused("an MQTT topic to publish to cannot hold + or #");
    out.target = std::move(topic);
    if (parsed->has_userinfo()) {
      out.user = parsed->user();
      out.password = parsed->password();
    }
  } else {
    out.target = parsed->encoded_path().empty() ? std::string("/") : std::string(parsed->encoded_path());
    if (parsed->has_query()) out.target += "?" + std::string(parsed->encoded_query());
  }
  out.key = std::string(parsed->scheme()) + "://" + (out.user.empty() ? "" : out.user + "@") + out.host + ":" +
            std::to_string(out.port);
  return out;
}

}  // namespace ct::notify
