#include "notify/endpoint.hpp"

#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>

#include "notify/scheme.hpp"

namespace ct::notify {

Result<EndpointAddress> parse_endpoint_uri(std::string_view uri) {
  if (uri == kWebSocketOnlyUri) {
    EndpointAddress out;
    out.key = std::string(kWebSocketOnlyUri);
    return out;
  }
  auto parsed = boost::urls::parse_absolute_uri(uri);
  if (!parsed) return refused_endpoint("\"" + std::string(uri.substr(0, 200)) + "\" is not an absolute URI");
  EndpointAddress out;
  out.handler = find_notification_scheme(parsed->scheme());
  if (!out.handler) {
    std::string known;
    for (const auto& name : notification_scheme_names()) known += name + ", ";
    return refused_endpoint("the scheme \"" + std::string(parsed->scheme()).substr(0, 40) + "\" is not supported (" + known +
                            "or " + std::string(kWebSocketOnlyUri) + ")");
  }
  out.scheme = std::string(parsed->scheme());
  for (auto& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!parsed->has_authority() || parsed->host().empty()) return refused_endpoint("the URI has no host");
  out.host = parsed->host_name();
  if (parsed->host_type() == boost::urls::host_type::ipv6) out.host = parsed->host_ipv6_address().to_string();
  else if (parsed->host_type() == boost::urls::host_type::ipv4) out.host = parsed->host_ipv4_address().to_string();
  if (parsed->has_port()) {
    const auto text = parsed->port();
    unsigned port = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535)
      return refused_endpoint("the port \"" + std::string(text) + "\" is not a number from 1 to 65535");
    out.port = static_cast<std::uint16_t>(port);
  }
  if (auto st = out.handler->complete(*parsed, out); !st) return st.problem();
  out.key = out.scheme + "://" + (out.user.empty() ? "" : out.user + "@") + out.host + ":" + std::to_string(out.port);
  return out;
}

}  // namespace ct::notify
