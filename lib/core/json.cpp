#include "core/json.hpp"

#include <set>
#include <vector>

namespace bwv::json {

namespace {

// Builds the document while refusing what the restricted form does not allow.
class StrictSax : public nlohmann::json_sax<Value> {
public:
  explicit StrictSax(Value& root) : m_root(root) {}
  std::string error;

  bool null() override { return put(Value(nullptr)); }
  bool boolean(bool v) override { return put(Value(v)); }
  bool number_integer(number_integer_t v) override {
    if (v < -k_max_int || v > k_max_int) return refuse("integer out of range");
    return put(Value(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (v > static_cast<number_unsigned_t>(k_max_int)) return refuse("integer out of range");
    return put(Value(static_cast<std::int64_t>(v)));
  }
  bool number_float(number_float_t, const string_t&) override {
    return refuse("floating-point numbers are not allowed");
  }
  bool string(string_t& v) override { return put(Value(std::move(v))); }
  bool binary(binary_t&) override { return refuse("binary values are not allowed"); }
  bool start_object(std::size_t) override {
    if (!put(Value::object())) return false;
    return push();
  }
  bool key(string_t& k) override {
    if (!m_keys.back().insert(k).second) return refuse("duplicate key \"" + k + "\"");
    m_key = std::move(k);
    return true;
  }
  bool end_object() override { return pop(); }
  bool start_array(std::size_t) override {
    if (!put(Value::array())) return false;
    return push();
  }
  bool end_array() override { return pop(); }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) override {
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    const auto colon = what.find(": ", what.find("parse error"));
    error = "invalid JSON at byte " + std::to_string(pos) +
            (colon == std::string::npos ? "" : ": " + what.substr(colon + 2));
    return false;
  }

private:
  bool refuse(std::string why) {
    error = std::move(why);
    return false;
  }
  bool put(Value v) {
    if (m_stack.empty()) {
      if (m_done) return refuse("more than one JSON value");
      m_root = std::move(v);
      m_current = &m_root;
      m_done = true;
      return true;
    }
    Value& parent = *m_stack.back();
    if (parent.is_object()) {
      m_current = &(parent[m_key] = std::move(v));
    } else {
      parent.push_back(std::move(v));
      m_current = &parent.back();
    }
    return true;
  }
  bool push() {
    if (m_stack.size() >= 32) return refuse("nested too deeply");
    m_stack.push_back(m_current);
    m_keys.emplace_back();
    return true;
  }
  bool pop() {
    m_stack.pop_back();
    m_keys.pop_back();
    return true;
  }

  Value& m_root;
  Value* m_current = nullptr;
  std::vector<Value*> m_stack;
  std::vector<std::set<std::string>> m_keys;
  std::string m_key;
  bool m_done = false;
};

} // namespace

Result<Value> parse(std::string_view text, const std::string& subject) {
  Value root;
  StrictSax sax(root);
  const bool ok = Value::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                                   /*strict=*/true);
  if (!ok) return fail(Errc::check_failed, subject, sax.error.empty() ? "invalid JSON" : sax.error);
  return root;
}

std::string write_pretty(const Value& v) {
  return v.dump(2, ' ', /*ensure_ascii=*/true) + "\n";
}

std::string write_line(const Value& v) {
  return v.dump(-1, ' ', /*ensure_ascii=*/true);
}

std::unexpected<Error> Reader::bad(const char* key, const std::string& what) const {
  return fail(Errc::check_failed, m_subject, "field \"" + m_prefix + key + "\": " + what);
}

Result<const Value*> Reader::field(const char* key) const {
  if (!m_obj.is_object()) return fail(Errc::check_failed, m_subject, "not a JSON object");
  const auto it = m_obj.find(key);
  if (it == m_obj.end()) return bad(key, "missing");
  return &*it;
}

Result<std::string> Reader::str(const char* key) const {
  const Value* v = BWV_TRY(field(key));
  if (!v->is_string()) return bad(key, "not a string");
  return v->get<std::string>();
}

Result<std::optional<std::string>> Reader::str_or_null(const char* key) const {
  const Value* v = BWV_TRY(field(key));
  if (v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return bad(key, "not a string or null");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::int64_t> Reader::integer(const char* key, std::int64_t min, std::int64_t max) const {
  const Value* v = BWV_TRY(field(key));
  if (!v->is_number_integer()) return bad(key, "not an integer");
  const std::int64_t n = v->get<std::int64_t>();
  if (n < min || n > max)
    return bad(key, std::to_string(n) + " is out of range [" + std::to_string(min) + ", " +
                        std::to_string(max) + "]");
  return n;
}

Result<bool> Reader::boolean(const char* key) const {
  const Value* v = BWV_TRY(field(key));
  if (!v->is_boolean()) return bad(key, "not true or false");
  return v->get<bool>();
}

Result<const Value*> Reader::object(const char* key) const {
  const Value* v = BWV_TRY(field(key));
  if (!v->is_object()) return bad(key, "not an object");
  return v;
}

Result<const Value*> Reader::array(const char* key) const {
  const Value* v = BWV_TRY(field(key));
  if (!v->is_array()) return bad(key, "not an array");
  return v;
}

} // namespace bwv::json
