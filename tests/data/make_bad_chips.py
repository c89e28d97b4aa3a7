#!/usr/bin/env python3
"""Regenerates the malformed chip configs in bad/ from models/chips/tsp-v1.json, so they
stay one mistake away from the real config when it gains keys."""
import copy
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "models", "chips", "tsp-v1.json")
base = json.load(open(src))
text = open(src).read()


def write(name, mutate):
    j = copy.deepcopy(base)
    mutate(j)
    with open(os.path.join(here, "bad", name), "w") as f:
        json.dump(j, f, indent=1)


write("chip_unknown_key.json", lambda j: j.__setitem__("clock_ghz", 1))
write("chip_unknown_nested_key.json", lambda j: j["mem"].__setitem__("slice_count", 44))
write("chip_wrong_type.json", lambda j: j["lanes"].__setitem__("superlanes", "20"))
write("chip_zero_streams.json", lambda j: j["streams"].__setitem__("per_direction", 0))
write("chip_negative_clock.json", lambda j: j.__setitem__("clock_mhz", -900))
write("chip_missing_key.json", lambda j: j["vxm"].pop("alus"))
write("chip_missing_timing.json", lambda j: j["timing"].pop("mem.read"))
write("chip_func_not_after_skew.json", lambda j: j["timing"]["vxm.mul"].__setitem__("skew_cycles", 5))
write("chip_huge_words.json", lambda j: j["mem"].__setitem__("words_per_slice", 10**19))
write("chip_fraction.json", lambda j: j["mem"].__setitem__("words_per_slice", 8192.5))
write("chip_null.json", lambda j: j.__setitem__("name", None))
write("chip_array_section.json", lambda j: j.__setitem__("mxm", [4, 320]))
write("chip_odd_planes.json", lambda j: j["mxm"].__setitem__("planes", 3))
write("chip_huge_sram.json", lambda j: (j["mem"].__setitem__("words_per_slice", 16777216),
                                        j["mem"].__setitem__("slices_per_hemisphere", 1024)))
for name, content in (("chip_truncated.json", text[: len(text) // 2]),
                      ("chip_empty.json", ""),
                      ("chip_nan.json", text.replace('"clock_mhz": 900', '"clock_mhz": NaN')),
                      ("chip_inf.json", text.replace('"clock_mhz": 900', '"clock_mhz": 1e400')),
                      ("chip_deep.json", "[" * 5000 + "]" * 5000),
                      ("chip_top_array.json", "[1, 2, 3]")):
    with open(os.path.join(here, "bad", name), "w") as f:
        f.write(content)
with open(os.path.join(here, "bad", "chip_binary.json"), "wb") as f:
    f.write(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
# A key with a newline in it: the error quoting it must still be one line.
with open(os.path.join(here, "bad", "chip_key_newline.json"), "w") as f:
    j = copy.deepcopy(base)
    j["mem"]["slice\ncount"] = 44
    json.dump(j, f, indent=1)
# Valid, but 65536 lanes and 2^23 words a slice (exactly the 1 TiB of SRAM accepted): a
# tensor filling a slice needs far more host memory than any machine has.
write("chip_huge_lanes.json", lambda j: (j["lanes"].__setitem__("superlanes", 256),
                                         j["lanes"].__setitem__("lanes_per_superlane", 256),
                                         j["mem"].__setitem__("slices_per_hemisphere", 1),
                                         j["mem"].__setitem__("words_per_slice", 1 << 23),
                                         j["mxm"].__setitem__("planes", 0),
                                         j["mxm"].__setitem__("queues_per_hemisphere", 0)))
# Issue 15: chips that pass the unit checks but not what the compiler's layout needs, a chip
# whose SRAM is one word per slice, a huge but valid SRAM, and a name holding a terminal
# escape sequence.
write("chip_mxm_1x1.json", lambda j: (j["mxm"].__setitem__("rows", 1), j["mxm"].__setitem__("cols", 1)))
write("chip_one_word.json", lambda j: j["mem"].__setitem__("words_per_slice", 1))
write("chip_max_words.json", lambda j: j["mem"].__setitem__("words_per_slice", 16777216))
write("chip_escape_name.json", lambda j: j.__setitem__("name", "tsp\x1b[2J\x1b[31mred"))
