#pragma once
// Strong types for the quantities the simulator indexes and counts, so that a cycle can
// never be passed where a stream or a slice position is expected.
#include <cstdint>
#include <functional>
#include <ostream>

namespace lpusim {

template <class Tag, class Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  friend constexpr bool operator==(StrongInt a, StrongInt b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(StrongInt a, StrongInt b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(StrongInt a, StrongInt b) { return a.value_ < b.value_; }
  friend constexpr bool operator<=(StrongInt a, StrongInt b) { return a.value_ <= b.value_; }
  friend constexpr bool operator>(StrongInt a, StrongInt b) { return a.value_ > b.value_; }
  friend constexpr bool operator>=(StrongInt a, StrongInt b) { return a.value_ >= b.value_; }
  friend std::ostream& operator<<(std::ostream& os, StrongInt v) { return os << v.value_; }

 private:
  Rep value_{};
};

/// A point in time or a duration, counted in chip clock cycles.
struct CycleTag {};
class Cycle : public StrongInt<CycleTag, std::int64_t> {
 public:
  using StrongInt::StrongInt;
  constexpr Cycle(StrongInt v) : StrongInt(v) {}  // NOLINT: conversions from the base are safe
  friend constexpr Cycle operator+(Cycle a, Cycle b) { return Cycle(a.value() + b.value()); }
  friend constexpr Cycle operator-(Cycle a, Cycle b) { return Cycle(a.value() - b.value()); }
  friend constexpr Cycle operator*(Cycle a, std::int64_t k) { return Cycle(a.value() * k); }
  Cycle& operator+=(Cycle b) { *this = *this + b; return *this; }
};

/// Index of a stream register within one direction (0 .. streams_per_direction-1).
struct StreamTag {};
using StreamIndex = StrongInt<StreamTag, int>;

/// Position of a functional-unit slice along the east-west axis (0 = westmost).
struct PositionTag {};
using Position = StrongInt<PositionTag, int>;

/// Index of a MEM slice within its hemisphere (0 = nearest the VXM).
struct SliceTag {};
using SliceIndex = StrongInt<SliceTag, int>;

/// Lane index within a vector (0 .. lanes-1).
struct LaneTag {};
using Lane = StrongInt<LaneTag, int>;

/// Word address within a MEM slice.
struct AddressTag {};
using Address = StrongInt<AddressTag, std::int64_t>;

/// A chip of a multi-chip system (0 .. chips-1).
struct ChipTag {};
using ChipId = StrongInt<ChipTag, int>;

/// A chip-to-chip link of a system (index into its link table).
struct LinkTag {};
using LinkId = StrongInt<LinkTag, int>;

/// A C2C port of one chip (0 .. c2c links-1).
struct PortTag {};
using PortIndex = StrongInt<PortTag, int>;

enum class Direction : std::uint8_t { East, West };
enum class Hemisphere : std::uint8_t { West, East };

inline const char* to_string(Direction d) { return d == Direction::East ? "e" : "w"; }
inline const char* to_string(Hemisphere h) { return h == Hemisphere::East ? "e" : "w"; }

/// A stream register: its index and direction of travel.
struct StreamId {
  StreamIndex index;
  Direction direction = Direction::East;
  friend bool operator==(StreamId a, StreamId b) { return a.index == b.index && a.direction == b.direction; }
  friend bool operator!=(StreamId a, StreamId b) { return !(a == b); }
};

}  // namespace lpusim
