#include "models/units/icu.hpp"

#include "engine/exec/calendar.hpp"
#include "models/units/queue_runner.hpp"

namespace lpusim {

void Icu::notify(Cycle now, Cycle release) {
  (void)now;
  barrier_.add_release(release);
  if (!calendar_) return;
  for (std::size_t i = 0; i < queues_.size(); ++i)
    if (queues_[i]->parked()) calendar_->schedule(first_slot_ + static_cast<int>(i), release);
}

}  // namespace lpusim
