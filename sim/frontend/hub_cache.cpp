#include "frontend/hub_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "arch/core/error.hpp"

namespace lpusim {

namespace fs = std::filesystem;

namespace {

bool valid_part(const std::string& part) {
  if (part.empty() || part.size() > 96 || part[0] == '.' || part[0] == '-') return false;
  for (const char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return part.find("..") == std::string::npos;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

/// "~" at the start becomes $HOME (huggingface_hub calls expanduser on these paths).
std::string expand_home(const std::string& path) {
  if (path.size() >= 1 && path[0] == '~' && (path.size() == 1 || path[1] == '/')) {
    const std::string home = env("HOME");
    if (!home.empty()) return home + path.substr(1);
  }
  return path;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\n')) line.pop_back();
  return line;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool looks_like_hub_model_id(const std::string& text) {
  std::string id = text;
  if (const auto at = id.find('@'); at != std::string::npos) {
    if (!valid_part(id.substr(at + 1))) return false;
    id = id.substr(0, at);
  }
  const auto slash = id.find('/');
  if (slash == std::string::npos || id.find('/', slash + 1) != std::string::npos) return false;
  return valid_part(id.substr(0, slash)) && valid_part(id.substr(slash + 1));
}

std::string hub_cache_dir() {
  if (const std::string v = env("HF_HUB_CACHE"); !v.empty()) return expand_home(v);
  if (const std::string v = env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return expand_home(v);
  if (const std::string v = env("HF_HOME"); !v.empty()) return expand_home(v) + "/hub";
  if (const std::string v = env("XDG_CACHE_HOME"); !v.empty()) return expand_home(v) + "/huggingface/hub";
  return expand_home("~/.cache/huggingface/hub");
}

std::string resolve_hub_model_config(const std::string& model_id) {
  if (!looks_like_hub_model_id(model_id))
    throw InputError(fmt::format("{}: not a Hugging Face model id (expected org/name)", model_id));
  std::string id = model_id, revision = "main";
  if (const auto at = id.find('@'); at != std::string::npos) {
    revision = id.substr(at + 1);
    id = id.substr(0, at);
  }
  const std::string cache = hub_cache_dir();
  std::string folder = "models--" + id;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path repo = fs::path(cache) / folder;
  const std::string how = fmt::format(
      "lpusim does not download; fetch it with `huggingface-cli download {} config.json` (or set HF_HUB_CACHE / "
      "HF_HOME), or pass the path of a config.json",
      id);
  std::error_code ec;
  if (!fs::is_directory(repo, ec))
    throw InputError(fmt::format("{}: not a file or folder, and not in the Hugging Face cache ({} does not exist); {}",
                                 model_id, repo.string(), how));
  std::string commit = revision;
  const fs::path ref = repo / "refs" / revision;
  if (fs::is_regular_file(ref, ec)) {
    commit = first_line(ref);
    if (!valid_part(commit))
      throw InputError(fmt::format("{}: {} holds '{}', not a commit hash", model_id, ref.string(), commit.substr(0, 60)));
  } else if (!is_commit_hash(revision)) {
    // No ref file: accept the only snapshot there is (what a cache copied without refs holds).
    std::vector<fs::path> snapshots;
    if (revision == "main" && fs::is_directory(repo / "snapshots", ec))
      for (const auto& entry : fs::directory_iterator(repo / "snapshots", ec))
        if (entry.is_directory(ec)) snapshots.push_back(entry.path());
    if (snapshots.size() != 1)
      throw InputError(fmt::format("{}: the Hugging Face cache folder {} has no refs/{} and {} snapshots; pass "
                                   "the path of the snapshot's config.json",
                                   model_id, repo.string(), revision, snapshots.size()));
    commit = snapshots[0].filename().string();
  }
  if (fs::exists(repo / ".no_exist" / commit / "config.json", ec))
    throw InputError(fmt::format("{}: the Hugging Face cache records that revision {} has no config.json", model_id,
                                 commit));
  const fs::path config = repo / "snapshots" / commit / "config.json";
  if (!fs::is_regular_file(config, ec))
    throw InputError(fmt::format("{}: the Hugging Face cache has revision {} but not its config.json ({} is missing); {}",
                                 model_id, commit, config.string(), how));
  return config.string();
}

}  // namespace lpusim
