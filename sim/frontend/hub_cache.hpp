#pragma once
// Offline resolution of a Hugging Face model id ("Qwen/Qwen3-32B") to the config.json the
// local hub cache holds, laid out as huggingface_hub writes it:
//   <cache>/models--Qwen--Qwen3-32B/refs/main                   the commit main points to
//   <cache>/models--Qwen--Qwen3-32B/snapshots/<commit>/config.json
// The cache is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (huggingface_hub's
// constants.py). lpusim never touches the network. Plain C++.
#include <optional>
#include <string>

namespace lpusim {

/// Whether `text` has the shape of a hub model id: "org/name" (or "org/name@revision"), each
/// part made of letters, digits, '-', '_' and '.', not starting with '.' or '-'.
bool looks_like_hub_model_id(const std::string& text);

/// The hub cache folder the environment selects (it need not exist).
std::string hub_cache_dir();

/// The config.json of `model_id` ("org/name", optionally "@revision": a branch or tag with a
/// refs/ file, or a commit hash) in the local hub cache. Throws InputError with one line
/// saying where it looked and how to get the file when it is not there.
std::string resolve_hub_model_config(const std::string& model_id);

}  // namespace lpusim
