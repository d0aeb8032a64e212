#include "http/live_api.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "http/ngsi_ld_request.hpp"
#include "live/live_stream.hpp"
#include "notify/websocket.hpp"

namespace ct::http {

bool is_live_stream_target(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  return path == kLiveStreamPath;
}

void upgrade_live_stream(live::LiveStream& stream, boost::asio::ip::tcp::socket socket, Request request) {
  auto refuse = [&](const Problem& problem) { notify::refuse_upgrade(std::move(socket), problem_response(problem)); };
  const std::string target(request.target());
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return refuse(bad_request("the request target is not a valid URI path"));
  Call call;
  call.request = std::move(request);
  for (auto p : parsed->params()) call.query.emplace(p.key, p.has_value ? p.value : std::string());
  if (call.header("NGSILD-Tenant").empty() && call.has_param("tenant"))
    call.request.set("NGSILD-Tenant", call.param("tenant"));
  auto tenant = tenant_of(call);
  if (!tenant) return refuse(tenant.problem());
  std::string epoch = call.has_param("epoch") ? std::string(call.param("epoch")) : std::string();
  storage::Sequence since = 0;
  if (!epoch.empty()) {
    const std::string text(call.param("since"));
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), since);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      return refuse(bad_request("since must be the sequence number of the last change received"));
  }
  stream.accept(std::move(socket), std::move(call.request), std::move(*tenant), std::move(epoch), since);
}

}  // namespace ct::http
