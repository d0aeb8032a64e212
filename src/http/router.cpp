#include "http/router.hpp"

#include <algorithm>
#include <boost/url.hpp>
#include <cctype>

#include "http/problem_mapping.hpp"

namespace ct::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  if (!path.empty() && path[0] == '/') start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty() && out.size() > 1) out.pop_back();
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
             std::vector<std::string>* params) {
  if (pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const bool capture = pattern[i].size() > 1 && pattern[i].front() == '{';
    if (capture) {
      if (segments[i].empty()) return false;
      if (params) params->push_back(segments[i]);
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

bool allowed_in_target(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x80 && (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=:@/?%").find(ch) != std::string_view::npos);
}

// Clients commonly send NGSI-LD queries unencoded (q=pm25>50, coordinates=[116.4,39.9]). Characters
// RFC 3986 does not allow in a path or query are percent-encoded before parsing, as browsers do.
std::string encode_stray_characters(std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size() + 16);
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (allowed_in_target(ch)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string Call::param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

std::vector<std::string> Call::param_list(const std::string& name) const {
  std::vector<std::string> out;
  auto [begin, end] = query.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::string_view Call::header(beast_http::field field) const {
  auto it = request.find(field);
  return it == request.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

std::string_view Call::header(std::string_view name) const {
  auto it = request.find(boost::beast::string_view(name.data(), name.size()));
  return it == request.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

Later Call::later() {
  if (!exchange_) exchange_ = std::make_shared<detail::Exchange>(std::move(reply_));
  return Later(exchange_);
}

void Router::add(beast_http::verb method, const std::string& pattern, RouteHandler handler) {
  routes_.push_back(Route{method, split_path(pattern), std::move(handler)});
}

void Router::handle(Request&& request, Reply reply) const {
  Call call;
  call.reply_ = std::move(reply);
  Outcome outcome = dispatch(std::move(request), call);
  if (call.exchange_) {  // the handler took a Later: whichever answers first is sent
    call.exchange_->answer(std::move(outcome));
    return;
  }
  call.reply_(std::move(outcome).take_response());
}

Outcome Router::dispatch(Request&& request, Call& call) const {
  // Most targets need no encoding: they are parsed where they are, without a copy.
  const std::string_view raw(request.target().data(), request.target().size());
  std::string encoded;
  if (!std::all_of(raw.begin(), raw.end(), allowed_in_target)) encoded = encode_stray_characters(raw);
  auto parsed = boost::urls::parse_origin_form(encoded.empty() ? raw : std::string_view(encoded));
  if (!parsed) return bad_request("the request target is not a valid URI path");
  std::vector<std::string> segments;
  segments.reserve(8);
  for (auto segment : parsed->segments()) segments.push_back(segment);  // percent-decoded
  if (segments.size() > 1 && segments.back().empty()) segments.pop_back();  // a trailing slash
  if (segments.empty()) segments.emplace_back();

  std::string allowed;
  for (const auto& route : routes_) {
    if (!matches(route.segments, segments, nullptr)) continue;
    if (route.method != request.method()) {
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(beast_http::to_string(route.method));
      continue;
    }
    matches(route.segments, segments, &call.path_params);
    for (auto p : parsed->params()) call.query.emplace(p.key, p.has_value ? p.value : std::string());
    call.request = std::move(request);
    return route.handler(call);
  }
  if (!allowed.empty()) {
    Response response = problem_response({ProblemKind::MethodNotAllowed,
                                          std::string(request.method_string()) + " is not allowed here"});
    response.set(beast_http::field::allow, allowed);
    return response;
  }
  return not_found("no resource at " + std::string(parsed->path()));
}

}  // namespace ct::http
