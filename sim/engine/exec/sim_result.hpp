#pragma once
// What a simulation run is asked to do and what it reports. Plain data, shared by the
// SystemC models (which fill it) and the reports and tests (which read it).
//
// The rule for the result structs (QueueStats, Hazard, TraceEvent, SimResult, SystemResult):
// every field travels through the one codec, engine/exec/sim_result_codec.cpp, which is how a
// result crosses a process and becomes stats. A field added here must be added there and to
// the round trip in tests/core/test_sim_result_codec.cpp (which sets every field); the
// codec's static_asserts on these structs' sizes fail the build until it is.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch/core/types.hpp"
#include "arch/isa/isa.hpp"

namespace lpusim {

enum class SimMode { Functional, TimingOnly };
/// How queues are run: one dispatcher that sleeps over idle cycles (the default), or the
/// clocked reference (one process per queue on every clock edge; for benchmarks).
enum class Scheduler { EventDriven, Clocked };

struct Hazard {
  enum class Kind {
    StreamEmpty,          ///< (a) a read where no value has arrived
    StreamCollision,      ///< (b) two writes into one stream register, position and cycle
    MemPortConflict,      ///< (c) more SRAM reads or writes in a slice in one cycle than allowed
    WeightsNotInstalled,  ///< (d) an MXM multiply before its weights are installed
    UnitBusy,             ///< (e) an instruction while its unit is busy beyond its capacity
    Deadlock,             ///< a queue parked at sync that nothing releases
    LinkBusy,             ///< a C2C send while the link's direction is still serialising a vector
    ReceiveEmpty,         ///< a C2C receive where no vector has arrived
    DataLost,             ///< a vector that arrived for this chip and that no receive took
    NotForwarded,         ///< a vector for another chip that arrived here and was not forwarded
  };
  Kind kind;
  Cycle cycle;
  std::string queue;
  std::string message;
};
const char* hazard_kind_name(Hazard::Kind kind);

struct QueueStats {
  std::string name;
  UnitKind unit = UnitKind::Mem;
  std::uint64_t instructions = 0;  ///< issued (repeats included; nop, repeat, sync not)
  std::uint64_t busy_cycles = 0;   ///< issue slots used
  std::uint64_t sram_reads = 0;    ///< MEM queues: SRAM reads (read, gather)
  std::uint64_t sram_writes = 0;   ///< MEM queues: SRAM writes (write, scatter)
  Cycle end{0};                    ///< one past the queue's last used cycle
  std::string parked;              ///< the sync it is parked at, while parked
};

/// One issued instruction, for traces.
struct TraceEvent {
  int queue = 0;           ///< index into SimResult::queues
  Cycle issue{0};
  Cycle duration{1};       ///< d_func (plus any extra latency), at least 1
  int instruction = -1;    ///< BoundInstruction id
};

struct SimOptions {
  SimMode mode = SimMode::Functional;
  bool check = true;                                        ///< report schedule hazards (exit code 3)
  std::vector<std::pair<std::string, std::string>> inputs;  ///< tensor name -> file
  std::vector<std::string> dumps;                           ///< tensors to return after the run
  bool trace = false;                                       ///< record every issue for a trace
  std::map<std::string, std::vector<double>> values;        ///< tensor name -> initial contents (vectors x lanes)
  Scheduler scheduler = Scheduler::EventDriven;
};

struct SimResult {
  SimMode mode = SimMode::Functional;
  Cycle total_cycles{0};
  std::uint64_t instructions = 0;
  std::vector<QueueStats> queues;
  std::vector<Hazard> hazards;        ///< the first 10000 found
  std::uint64_t hazards_not_kept = 0;  ///< found beyond those
  std::map<std::string, std::vector<double>> dumps;
  std::vector<TraceEvent> trace;
  std::uint64_t stream_writes = 0;
  std::uint64_t stream_reads = 0;
  std::uint64_t c2c_vectors_sent = 0;      ///< vectors this chip put on its C2C links
  std::uint64_t c2c_vectors_received = 0;  ///< vectors its receives took off them
  std::uint64_t c2c_link_busy_cycles = 0;  ///< cycles its links' outbound directions spent serialising (summed over links)
  std::uint64_t scheduler_wakes = 0;  ///< SystemC process activations (dispatcher or clocked ticks)
  double host_seconds = 0.0;
  std::int64_t sram_host_bytes = 0;
  std::int64_t peak_rss_bytes = 0;
};

/// What a run of a system of chips reports: each chip's result (in chip order) and totals.
/// A one-chip system's only result is what simulate() returns.
struct SystemResult {
  std::vector<SimResult> chips;
  Cycle total_cycles{0};              ///< the last chip's end
  std::uint64_t instructions = 0;     ///< over all chips
  std::optional<Cycle> lookahead;     ///< the dispatcher's window (none: unbounded, no links)
  std::uint64_t windows = 0;          ///< lookahead windows the dispatcher ran (event-driven)
  std::uint64_t scheduler_wakes = 0;  ///< SystemC process activations of the whole run
  double host_seconds = 0.0;          ///< the whole run (every chip's host_seconds is this too)
  std::int64_t sram_host_bytes = 0;   ///< over all chips
  std::int64_t peak_rss_bytes = 0;
};

}  // namespace lpusim
