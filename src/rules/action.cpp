#include "rules/action.hpp"

#include <optional>
#include <type_traits>

namespace ct::rules {
namespace {

template <typename... T>
std::string registered_action_names(std::variant<T...>*) {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + std::string(T::kName)), ...);
  return out;
}

template <typename... T>
Result<Action> parse_registered_action(std::variant<T...>*, std::string_view name, const json::object& spec, const std::string& at,
                        const jsonld::Context& ctx) {
  std::optional<Result<Action>> out;
  auto try_one = [&]<typename A>(A*) {
    if (out || A::kName != name) return;
    auto parsed = A::parse(spec, at, ctx);
    if (!parsed) out.emplace(parsed.problem());
    else out.emplace(Action(std::in_place_type<A>, std::move(parsed).value()));
  };
  (try_one(static_cast<T*>(nullptr)), ...);
  if (out) return std::move(*out);
  return Problem{ProblemKind::InternalError, "unknown action"};
}

template <typename... T>
bool is_registered_action(std::variant<T...>*, std::string_view name) {
  return ((T::kName == name) || ...);
}

}  // namespace

Problem member_error(const std::string& member, const std::string& what) { return bad_request(member + ": " + what); }

Result<std::string> string_member(const json::object& o, std::string_view name, const std::string& where, bool required) {
  const auto* v = o.if_contains(name);
  if (!v || v->is_null()) {
    if (required) return member_error(where + "." + std::string(name), "is required");
    return std::string();
  }
  if (!v->is_string()) return member_error(where + "." + std::string(name), "must be a string");
  if (v->get_string().size() > 4096) return member_error(where + "." + std::string(name), "is longer than 4096 characters");
  return std::string(v->get_string());
}

Result<Action> parse_action(const json::value& item, std::size_t index, const jsonld::Context& ctx) {
  static const std::string kNames = registered_action_names(static_cast<Action*>(nullptr));
  const std::string where = "actions[" + std::to_string(index) + "]";
  std::string one_of = kNames;
  if (auto comma = one_of.rfind(", "); comma != std::string::npos) one_of.replace(comma, 2, " or ");
  if (!item.is_object() || item.get_object().size() != 1)
    return member_error(where, "must be an object with one member: " + one_of);
  const auto& [key, spec_value] = *item.get_object().begin();
  if (!is_registered_action(static_cast<Action*>(nullptr), key))
    return member_error(where, "unknown action \"" + std::string(key) + "\" (" + kNames + ")");
  if (!spec_value.is_object()) return member_error(where + "." + std::string(key), "must be an object");
  return parse_registered_action(static_cast<Action*>(nullptr), key, spec_value.get_object(), where + "." + std::string(key), ctx);
}

std::string_view action_name(const Action& action) {
  return std::visit([](const auto& a) { return std::remove_cvref_t<decltype(a)>::kName; }, action);
}

bool runs_on_clear(const Action& action) {
  return std::visit([](const auto& a) { return std::remove_cvref_t<decltype(a)>::kRunsOnClear; }, action);
}

bool runs_first(const Action& action) {
  return std::visit([](const auto& a) { return std::remove_cvref_t<decltype(a)>::kRunsFirst; }, action);
}

std::string_view action_target(const Action& action) {
  return std::visit([](const auto& a) { return a.target(); }, action);
}

Status run_action(const Action& action, ActionContext& ctx) {
  return std::visit([&](const auto& a) { return a.run(ctx); }, action);
}

const json::value* location_of(const model::Entity* entity) {
  if (!entity) return nullptr;
  static const model::Term location = model::Term::intern("https://uri.etsi.org/ngsi-ld/location");
  const auto* a = entity->find(location);
  return a && a->kind == model::AttributeKind::GeoProperty ? &a->value : nullptr;
}

}  // namespace ct::rules
