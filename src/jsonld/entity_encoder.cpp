// The rendering rules of the three NGSI-LD representations and GeoJSON, written once over a
// sink: TextSink prints JSON straight into a buffer (responses, store documents), TreeSink builds
// a Boost.JSON tree for callers that edit or embed the result (notifications, history).
#include <algorithm>
#include <array>
#include <type_traits>
#include <unordered_map>

#include "jsonld/entity_codec.hpp"
#include "jsonld/entity_writer.hpp"

namespace ct::jsonld {
namespace {

using model::Attribute;
using model::AttributeKind;
using model::Term;

// Members the encoder writes itself, which a compacted name must not repeat.
bool is_entity_member(std::string_view key) {
  return key == "id" || key == "type" || key == "scope" || key == "createdAt" || key == "modifiedAt" ||
         (!key.empty() && key[0] == '@');
}

constexpr std::array<std::string_view, 17> kAttributeMembers = {
    "type",     "value",     "object",     "languageMap", "vocab",      "json",       "valueList",     "objectList", "lang",
    "observedAt", "unitCode", "datasetId", "createdAt",   "modifiedAt", "instanceId", "previousValue", "objectType"};

bool is_attribute_member(std::string_view key) {
  return std::find(kAttributeMembers.begin(), kAttributeMembers.end(), key) != kAttributeMembers.end() ||
         (!key.empty() && key[0] == '@');
}

class TextSink {
 public:
  explicit TextSink(std::string& out) : out_(out) {}
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k) {
    separate();
    append_quoted(out_, k);
    out_.push_back(':');
    comma_ = false;
  }
  void string(std::string_view s) {
    separate();
    append_quoted(out_, s);
    comma_ = true;
  }
  // Keys and strings the encoder itself chooses ("type", "Property", …): nothing to escape.
  void plain_key(std::string_view k) {
    separate();
    out_.push_back('"');
    out_.append(k);
    out_.append("\":", 2);
    comma_ = false;
  }
  void plain_string(std::string_view s) {
    separate();
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
    comma_ = true;
  }
  // A key and the start of its value, already printed (CompactNames::Name::normalized_head).
  void key_and_value_start(std::string_view printed) {
    separate();
    out_.append(printed);
    comma_ = false;
  }
  void key(const CompactNames::Name& name) {
    separate();
    out_.append(name.quoted);
    out_.push_back(':');
    comma_ = false;
  }
  void string(const CompactNames::Name& name) {
    separate();
    out_.append(name.quoted);
    comma_ = true;
  }
  void value(const json::value& v) {
    separate();
    append_text(out_, v);
    comma_ = true;
  }
  void null() {
    separate();
    out_ += "null";
    comma_ = true;
  }

 private:
  void separate() {
    if (comma_) out_.push_back(',');
  }
  void open(char c) {
    separate();
    out_.push_back(c);
    comma_ = false;
  }
  void close(char c) {
    out_.push_back(c);
    comma_ = true;
  }
  std::string& out_;
  bool comma_ = false;
};

class TreeSink {
 public:
  void begin_object() { open(json::object()); }
  void end_object() { close(); }
  void begin_array() { open(json::array()); }
  void end_array() { close(); }
  void key(std::string_view k) { key_.assign(k); }
  void string(std::string_view s) { put(json::value(s)); }
  void plain_key(std::string_view k) { key(k); }
  void plain_string(std::string_view s) { string(s); }
  void key(const CompactNames::Name& name) { key(name.text); }
  void string(const CompactNames::Name& name) { string(name.text); }
  void value(const json::value& v) { put(v); }
  void null() { put(nullptr); }
  json::value release() { return std::move(result_); }

 private:
  struct Open {
    std::string key;  // the member it becomes in its parent object
    json::value container;
  };
  void open(json::value container) {
    stack_.push_back({std::move(key_), std::move(container)});
    key_.clear();
  }
  void close() {
    Open top = std::move(stack_.back());
    stack_.pop_back();
    key_ = std::move(top.key);
    put(std::move(top.container));
  }
  void put(json::value v) {
    if (stack_.empty()) {
      result_ = std::move(v);
      return;
    }
    json::value& c = stack_.back().container;
    if (c.is_object())
      c.get_object()[key_] = std::move(v);
    else
      c.get_array().push_back(std::move(v));
  }
  std::vector<Open> stack_;
  std::string key_;
  json::value result_;
};

// The language a LanguageProperty is rendered in for `lang`: the one asked for, else "@none", else
// the first. Empty when the map has none.
std::string_view chosen_language(const Attribute& a, const std::string& wanted) {
  const auto& map = a.value.get_object();
  if (map.contains(wanted)) return wanted;
  if (map.contains("@none")) return "@none";
  return map.empty() ? std::string_view() : std::string_view(map.begin()->key());
}

bool renders_one_language(const Attribute& a, const EncodeOptions& options) {
  return a.kind == AttributeKind::LanguageProperty && !options.lang.empty() && a.value.is_object() &&
         !a.value.get_object().empty();
}

bool is_bare_in_concise(const Attribute& a, const EncodeOptions& options) {
  if (!a.sub_attributes.empty() || a.observed_at != kNoTimestamp || !a.unit_code.empty() || !a.dataset_id.empty() ||
      options.sys_attrs)
    return false;
  if (a.kind == AttributeKind::GeoProperty) return true;
  return a.kind == AttributeKind::Property && !a.value.is_object() && !a.value.is_array();
}

template <class Sink>
class Renderer {
 public:
  // `scratch` is reused from one entity to the next (see attributes()).
  Renderer(Sink& sink, const EncodeOptions& options, CompactNames& names, std::vector<Term>& scratch)
      : sink_(sink), options_(options), names_(names), names_of_attributes_(scratch) {}

  void entity(const model::Entity& e, std::string_view embedded_context) {
    sink_.begin_object();
    if (!options_.omit_id) {
      sink_.plain_key("id");
      sink_.string(e.id);
    }
    if (!options_.omit_type) {
      sink_.plain_key("type");
      types(e);
    }
    if (!e.scopes.empty() && !options_.omit_scope) {
      sink_.plain_key("scope");
      if (e.scopes.size() == 1) {
        sink_.string(e.scopes.front());
      } else {
        sink_.begin_array();
        for (const auto& s : e.scopes) sink_.string(s);
        sink_.end_array();
      }
    }
    if (options_.sys_attrs && options_.form != Form::Simplified) {
      time_member("createdAt", e.created_at);
      time_member("modifiedAt", e.modified_at);
    }
    attributes(e);
    if (!embedded_context.empty()) {
      sink_.plain_key("@context");
      sink_.string(embedded_context);
    }
    sink_.end_object();
  }

  void feature(const model::Entity& e, Term geometry_property) {
    sink_.begin_object();
    sink_.plain_key("id");
    sink_.string(e.id);
    sink_.plain_key("type");
    sink_.plain_string("Feature");
    sink_.plain_key("geometry");
    const auto geometry = std::find_if(e.attributes.begin(), e.attributes.end(), [&](const Attribute& a) {
      return a.name == geometry_property && a.kind == AttributeKind::GeoProperty;
    });
    if (geometry != e.attributes.end())
      sink_.value(geometry->value);
    else
      sink_.null();
    sink_.plain_key("properties");
    sink_.begin_object();
    sink_.plain_key("type");
    types(e);
    attributes(e);
    sink_.end_object();
    sink_.end_object();
  }

 private:
  void types(const model::Entity& e) {
    if (e.types.size() == 1) return sink_.string(names_.of(e.types.front()));
    sink_.begin_array();
    for (Term t : e.types) sink_.string(names_.of(t));
    sink_.end_array();
  }

  void time_member(std::string_view key, Timestamp t) {
    if (t == kNoTimestamp) return;
    sink_.plain_key(key);
    sink_.plain_string(format_datetime(t));
  }

  void attribute_key(Term name, bool sub_attribute) {
    if (const auto* compacted = names_.key_of(name, sub_attribute))
      sink_.key(*compacted);
    else
      sink_.key(name.str());
  }

  bool selected(Term name) const {
    if (options_.pick && !options_.pick->contains(name)) return false;
    if (options_.omit && options_.omit->contains(name)) return false;
    return true;
  }

  // Instances of one attribute are rendered together (an array when there are several), in the
  // order the attribute first appears.
  void attributes(const model::Entity& e) {
    const auto& all = e.attributes;
    // The names side by side, so that finding the other instances of each does not walk the attributes.
    names_of_attributes_.clear();
    for (const auto& a : all) names_of_attributes_.push_back(a.name);
    const auto names_begin = names_of_attributes_.begin();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Term name = all[i].name;
      const auto at = names_begin + static_cast<std::ptrdiff_t>(i);
      if (std::find(names_begin, at, name) != at) continue;  // rendered with its first instance
      if (!selected(name)) continue;
      const auto count = std::count(at, names_of_attributes_.end(), name);
      if (count == 1) {
        alone_instance(name, all[i]);
        continue;
      }
      attribute_key(name, /*sub_attribute=*/false);
      sink_.begin_array();
      for (std::size_t j = i; j < all.size(); ++j)
        if (all[j].name == name) instance(all[j], /*alone=*/false);
      sink_.end_array();
    }
  }

  // The simplified form: Property, GeoProperty and Relationship render as their bare value; the
  // other kinds keep their member name ({"languageMap": …}) so that they read back as the same kind.
  void simplified_value(const Attribute& a) {
    if (renders_one_language(a, options_)) return sink_.value(a.value.get_object().at(chosen_language(a, options_.lang)));
    switch (a.kind) {
      case AttributeKind::Property:
      case AttributeKind::GeoProperty:
      case AttributeKind::Relationship: return sink_.value(a.value);
      default:
        sink_.begin_object();
        sink_.plain_key(model::kind_value_member(a.kind));
        sink_.value(a.value);
        sink_.end_object();
    }
  }

  // The key and the only instance of an attribute. Printing text in the normalized form, the key,
  // the instance's type and its value member are one piece cached per name.
  void alone_instance(Term name, const Attribute& a) {
    if constexpr (std::is_same_v<Sink, TextSink>) {
      if (options_.form == Form::Normalized && !renders_one_language(a, options_))
        if (auto* compacted = names_.key_of(name, /*sub_attribute=*/false)) {
          sink_.key_and_value_start(compacted->normalized_head(a.kind));
          sink_.value(a.value);
          return instance_end(a);
        }
    }
    attribute_key(name, /*sub_attribute=*/false);
    instance(a, /*alone=*/true);
  }

  // `alone`: the only instance of its attribute (a bare concise value inside an array of instances
  // would read back as one Property whose value is the array).
  void instance(const Attribute& a, bool alone) {
    if (options_.form == Form::Simplified) return simplified_value(a);
    if (options_.form == Form::Concise && alone && is_bare_in_concise(a, options_)) return sink_.value(a.value);
    sink_.begin_object();
    const bool one_language = renders_one_language(a, options_);
    if (options_.form == Form::Normalized) {
      sink_.plain_key("type");
      sink_.plain_string(one_language ? std::string_view("Property") : model::kind_name(a.kind));
    }
    if (one_language) {
      const auto language = chosen_language(a, options_.lang);
      sink_.plain_key("value");
      sink_.value(a.value.get_object().at(language));
      sink_.plain_key("lang");
      sink_.string(language);
    } else {
      sink_.plain_key(model::kind_value_member(a.kind));
      sink_.value(a.value);
    }
    instance_end(a);
  }

  // What follows the value of an instance object, and its closing brace.
  void instance_end(const Attribute& a) {
    time_member("observedAt", a.observed_at);
    if (!a.unit_code.empty()) {
      sink_.plain_key("unitCode");
      sink_.string(a.unit_code.str());
    }
    if (!a.dataset_id.empty()) {
      sink_.plain_key("datasetId");
      sink_.string(a.dataset_id.str());
    }
    if (options_.sys_attrs) {
      time_member("createdAt", a.created_at);
      time_member("modifiedAt", a.modified_at);
    }
    // Two instances of one sub-attribute (a short name and its IRI given side by side) are one
    // member: where the first stood, with the last one's value.
    const auto& subs = a.sub_attributes;
    for (std::size_t i = 0; i < subs.size(); ++i) {
      const Term name = subs[i].name;
      if (std::any_of(subs.begin(), subs.begin() + static_cast<std::ptrdiff_t>(i),
                      [&](const Attribute& s) { return s.name == name; }))
        continue;
      std::size_t last = i;
      for (std::size_t j = i + 1; j < subs.size(); ++j)
        if (subs[j].name == name) last = j;
      attribute_key(name, /*sub_attribute=*/true);
      instance(subs[last], /*alone=*/true);
    }
    sink_.end_object();
  }

  Sink& sink_;
  const EncodeOptions& options_;
  CompactNames& names_;
  std::vector<Term>& names_of_attributes_;
};

}  // namespace

struct CompactNames::Table {
  static constexpr std::size_t kMaxNames = 4096;
  std::unordered_map<Term, Name> names;
};

namespace {

CompactNames::Name compacted(const Context& ctx, Term iri) {
  CompactNames::Name name;
  name.text = ctx.compact(iri.str());
  append_quoted(name.quoted, name.text);
  name.clashes_with_entity_member = is_entity_member(name.text);
  name.clashes_with_attribute_member = is_attribute_member(name.text);
  return name;
}

// The calling thread's tables of its most recent contexts, most recent first. Holding the
// context keeps its address from being reused by another while its table is here.
std::shared_ptr<CompactNames::Table> thread_table(const ContextPtr& ctx) {
  struct Entry {
    ContextPtr context;
    std::shared_ptr<CompactNames::Table> table;
  };
  constexpr std::size_t kContexts = 4;
  thread_local std::vector<Entry> recent;
  for (auto it = recent.begin(); it != recent.end(); ++it)
    if (it->context == ctx) {
      std::rotate(recent.begin(), it, it + 1);
      return recent.front().table;
    }
  recent.insert(recent.begin(), Entry{ctx, std::make_shared<CompactNames::Table>()});
  if (recent.size() > kContexts) recent.pop_back();
  return recent.front().table;
}

}  // namespace

CompactNames::CompactNames(const Context& ctx) : ctx_(ctx), shared_(std::make_shared<Table>()) {}

CompactNames::CompactNames(const ContextPtr& ctx) : ctx_(*ctx), shared_(thread_table(ctx)) {}

const CompactNames::Name& CompactNames::of(Term iri) {
  for (const auto& [term, name] : recent_)
    if (term == iri) return *name;
  auto find = [iri](const std::shared_ptr<Table>& table) -> const Name* {
    if (!table) return nullptr;
    auto it = table->names.find(iri);
    return it == table->names.end() ? nullptr : &it->second;
  };
  const Name* found = find(shared_);
  if (!found) found = find(own_);
  if (!found) {
    if (shared_->names.size() >= Table::kMaxNames && !own_) own_ = std::make_shared<Table>();
    Table& into = shared_->names.size() < Table::kMaxNames ? *shared_ : *own_;
    if (into.names.size() >= Table::kMaxNames) {
      uncached_ = compacted(ctx_, iri);  // beyond, a hostile response of many names stays linear
      return uncached_;
    }
    found = &into.names.emplace(iri, compacted(ctx_, iri)).first->second;
  }
  constexpr std::size_t kRecent = 32;
  if (recent_.size() < kRecent) recent_.emplace_back(iri, found);
  return *found;
}

const std::string& CompactNames::Name::normalized_head(AttributeKind kind) const {
  std::string& head = normalized_heads.at(static_cast<std::size_t>(kind));
  if (head.empty()) {
    TextSink sink(head);
    sink.key(*this);
    sink.begin_object();
    sink.plain_key("type");
    sink.plain_string(model::kind_name(kind));
    sink.plain_key(model::kind_value_member(kind));
  }
  return head;
}

const CompactNames::Name* CompactNames::key_of(Term iri, bool sub_attribute) {
  const Name& name = of(iri);
  const bool clashes = sub_attribute ? name.clashes_with_attribute_member : name.clashes_with_entity_member;
  return clashes ? nullptr : &name;
}

EntityWriter::EntityWriter(const Context& ctx, const EncodeOptions& options, std::string embedded_context)
    : options_(options), embedded_context_(std::move(embedded_context)), names_(ctx) {}

EntityWriter::EntityWriter(const ContextPtr& ctx, const EncodeOptions& options, std::string embedded_context)
    : options_(options), embedded_context_(std::move(embedded_context)), names_(ctx) {}

void EntityWriter::entity(std::string& out, const model::Entity& entity) {
  TextSink sink(out);
  Renderer<TextSink>(sink, options_, names_, scratch_).entity(entity, embedded_context_);
}

void EntityWriter::feature(std::string& out, const model::Entity& entity, Term geometry_property) {
  TextSink sink(out);
  Renderer<TextSink>(sink, options_, names_, scratch_).feature(entity, geometry_property);
}

json::object encode_entity(const model::Entity& entity, const Context& ctx, const EncodeOptions& options) {
  TreeSink sink;
  CompactNames names(ctx);
  std::vector<Term> scratch;
  Renderer<TreeSink>(sink, options, names, scratch).entity(entity, {});
  return std::move(sink.release().as_object());
}

}  // namespace ct::jsonld
