#include "report/trace_reader.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

namespace lpusim::cli::report {

namespace {

using nlohmann::json;

/// One trace event's fields, as far as the report needs them.
struct Event {
  std::string ph, name;
  std::optional<std::int64_t> pid, tid;
  std::optional<double> ts, dur;
  std::optional<std::int64_t> cycle, duration_cycles;
  std::string args_name;  // M events: the thread or process name
};

/// Depth counts open containers: the root object is 1, traceEvents 2, an event 3, its args 4.
class TraceSax : public nlohmann::json_sax<json> {
 public:
  explicit TraceSax(Trace& trace) : trace_(trace) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return number(static_cast<double>(v), v); }
  bool number_unsigned(number_unsigned_t v) override {
    return number(static_cast<double>(v), v > static_cast<number_unsigned_t>(INT64_MAX) ? std::optional<std::int64_t>()
                                                                                          : static_cast<std::int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return number(v, std::nullopt); }
  bool binary(binary_t&) override { return true; }
  bool string(string_t& v) override {
    if (in_event(3)) {
      if (key_ == "ph") event_.ph = v;
      else if (key_ == "name") event_.name = v;
    } else if (in_event(4) && key_ == "name") {
      event_.args_name = v;
    } else if (in_other_data() && key_ == "chip") {
      trace_.chip = v;
    } else if (in_other_data() && key_ == "program") {
      trace_.program = v;
    }
    return true;
  }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && key_ == "otherData") other_data_ = true;
    if (depth_ == 3 && events_) event_ = Event{};
    if (depth_ == 4 && events_) args_ = key_ == "args";
    return true;
  }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool end_object() override {
    if (depth_ == 3 && events_) {
      commit();
      ++event_index_;
    }
    if (depth_ == 4) args_ = false;
    if (depth_ == 2) other_data_ = false;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && key_ == "traceEvents") {
      events_ = true;
      saw_events_ = true;
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == 2) events_ = false;
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    std::string what = e.what();
    const auto at = what.find("syntax error");
    error_ = fmt::format("{}: invalid JSON at byte {}: {}", trace_.file, position, at == std::string::npos ? what : what.substr(at));
    return false;
  }

  const std::string& error() const { return error_; }
  bool saw_events() const { return saw_events_; }
  /// Resolves queue ids and cycles once the whole file (otherData's clock included) is read.
  void finish();

 private:
  bool in_event(int depth) const { return events_ && depth_ == depth && (depth == 3 || args_); }
  bool in_other_data() const { return other_data_ && depth_ == 2; }
  bool number(double v, std::optional<std::int64_t> integer) {
    if (in_event(3)) {
      if (key_ == "pid") event_.pid = integer;
      else if (key_ == "tid") event_.tid = integer;
      else if (key_ == "ts") event_.ts = v;
      else if (key_ == "dur") event_.dur = v;
    } else if (in_event(4)) {
      if (key_ == "cycle") event_.cycle = integer;
      else if (key_ == "duration_cycles") event_.duration_cycles = integer;
    } else if (in_other_data() && key_ == "clock_mhz") {
      trace_.clock_mhz = v;
    }
    return true;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    throw InputError(fmt::format("{}: traceEvents[{}]: {}", trace_.file, event_index_, expected));
  }
  void commit();

  struct Pending {  // an X event timed in microseconds, converted once the clock is known
    std::optional<double> ts, dur;
    std::optional<std::int64_t> cycle, duration_cycles;
    std::size_t slice;
    std::int64_t index;
  };
  void check(TraceSlice& s, std::int64_t index) const;

  Trace& trace_;
  int depth_ = 0;
  std::string key_;
  bool events_ = false, saw_events_ = false, args_ = false, other_data_ = false;
  Event event_;
  std::int64_t event_index_ = 0;
  std::string error_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> thread_names_;
  std::map<std::int64_t, std::string> process_names_;
  std::map<std::string, std::int32_t> op_index_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> queue_of_;
  std::vector<Pending> pending_;
};

void TraceSax::commit() {
  if (event_.ph == "M") {
    if (!event_.pid) fail("metadata event without an integer pid");
    if (event_.name == "thread_name") {
      if (!event_.tid) fail("thread_name without an integer tid");
      thread_names_[{*event_.pid, *event_.tid}] = event_.args_name;
    } else if (event_.name == "process_name") {
      process_names_[*event_.pid] = event_.args_name;
    }
    return;
  }
  if (event_.ph != "X") {
    ++trace_.ignored_events;
    return;
  }
  if (!event_.pid || !event_.tid) fail("a complete (X) event needs integer pid and tid");
  if (!event_.cycle && !event_.ts) fail("a complete (X) event needs ts or args.cycle");
  auto [op, new_op] = op_index_.emplace(event_.name, static_cast<std::int32_t>(trace_.ops.size()));
  if (new_op) trace_.ops.push_back(event_.name);
  auto [queue, new_queue] = queue_of_.emplace(std::make_pair(*event_.pid, *event_.tid), static_cast<std::int32_t>(trace_.queues.size()));
  if (new_queue) trace_.queues.push_back(TraceQueue{"", "", static_cast<int>(*event_.pid)});  // named in finish()
  TraceSlice s;
  s.queue = queue->second;
  s.op = op->second;
  if (event_.cycle && (event_.duration_cycles || !event_.dur)) {
    // lpusim's own traces carry cycles: no conversion, nothing kept for later.
    s.issue = *event_.cycle;
    s.duration = event_.duration_cycles.value_or(1);
    check(s, event_index_);
  } else {
    // Microseconds only: converted once otherData's clock is known (it may come last).
    pending_.push_back(Pending{event_.ts, event_.dur, event_.cycle, event_.duration_cycles, trace_.slices.size(), event_index_});
  }
  trace_.slices.push_back(s);
}

void TraceSax::check(TraceSlice& s, std::int64_t index) const {
  if (s.issue < 0 || s.duration < 0 || s.issue > (std::int64_t{1} << 54) || s.duration > (std::int64_t{1} << 54))
    throw InputError(fmt::format("{}: traceEvents[{}]: cycle {} duration {} out of range", trace_.file, index, s.issue, s.duration));
  s.duration = std::max<std::int64_t>(s.duration, 1);
}

void TraceSax::finish() {
  for (const auto& [ids, index] : queue_of_) {
    TraceQueue& q = trace_.queues[static_cast<std::size_t>(index)];
    auto name = thread_names_.find(ids);
    q.name = name != thread_names_.end() ? name->second : fmt::format("track {}/{}", ids.first, ids.second);
    auto group = process_names_.find(ids.first);
    q.group = group != process_names_.end() ? group->second : fmt::format("process {}", ids.first);
  }
  for (const auto& p : pending_) {
    auto to_cycles = [&](double us, const char* what) {
      if (trace_.clock_mhz <= 0)
        throw InputError(fmt::format("{}: traceEvents[{}]: {} in microseconds but no otherData.clock_mhz to turn it into cycles",
                                     trace_.file, p.index, what));
      return static_cast<std::int64_t>(std::llround(us * trace_.clock_mhz));
    };
    TraceSlice& s = trace_.slices[p.slice];
    s.issue = p.cycle ? *p.cycle : to_cycles(*p.ts, "ts");
    s.duration = p.duration_cycles ? *p.duration_cycles : p.dur ? to_cycles(*p.dur, "dur") : 1;
    check(s, p.index);
  }
  pending_.clear();
}

}  // namespace

Trace read_trace(const std::string& path) {
  Trace trace;
  trace.file = path;
  (void)check_user_file(path, kMaxTraceBytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file for reading", path));
  TraceSax sax(trace);
  const bool ok = json::sax_parse(in, &sax);
  if (!ok) throw InputError(sax.error().empty() ? fmt::format("{}: invalid JSON", path) : sax.error());
  if (!sax.saw_events()) throw InputError(fmt::format("{}: key 'traceEvents': missing; not a Chrome/Perfetto trace", path));
  sax.finish();
  if (trace.slices.empty()) throw InputError(fmt::format("{}: the trace holds no instruction slices (X events)", path));
  return trace;
}

}  // namespace lpusim::cli::report
