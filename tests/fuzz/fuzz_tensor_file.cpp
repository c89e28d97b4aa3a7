// Fuzzes the tensor input file decoder. The first byte picks the tensor (type, vectors,
// lanes, text or binary); the rest is the file's contents. Any contents must decode or be
// refused with an InputError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/core/error.hpp"
#include "engine/exec/tensor_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const lpusim::DType types[] = {lpusim::DType::Int8, lpusim::DType::Int16, lpusim::DType::Int32,
                                        lpusim::DType::Fp16, lpusim::DType::Fp32};
  const std::uint8_t selector = data[0];
  lpusim::BoundTensor tensor;
  tensor.name = "t";
  tensor.dtype = types[selector % 5];
  tensor.vectors = 1 + (selector / 5) % 3;
  const int lanes = (selector & 0x40) ? 4 : 16;
  const bool binary = (selector & 0x80) != 0;
  const std::string contents(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!binary && contents.find('\0') != std::string::npos) return 0;  // refused by read_user_text_file
  try {
    const auto values = lpusim::parse_tensor_data(contents, binary, binary ? "fuzz.bin" : "fuzz.txt", tensor, lanes);
    (void)lpusim::format_tensor(values, lanes);
  } catch (const lpusim::InputError&) {
  }
  return 0;
}
