#include "engine/exec/sim_result.hpp"

namespace lpusim {

const char* hazard_kind_name(Hazard::Kind kind) {
  switch (kind) {
    case Hazard::Kind::StreamEmpty: return "stream-empty";
    case Hazard::Kind::StreamCollision: return "stream-collision";
    case Hazard::Kind::MemPortConflict: return "mem-port-conflict";
    case Hazard::Kind::WeightsNotInstalled: return "weights-not-installed";
    case Hazard::Kind::UnitBusy: return "unit-busy";
    case Hazard::Kind::Deadlock: return "deadlock";
    case Hazard::Kind::LinkBusy: return "link-busy";
    case Hazard::Kind::ReceiveEmpty: return "receive-empty";
    case Hazard::Kind::DataLost: return "data-lost";
    case Hazard::Kind::NotForwarded: return "not-forwarded";
  }
  return "?";
}

}  // namespace lpusim
