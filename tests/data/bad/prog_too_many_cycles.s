.queue mem.w0
    read 0, s0e
    repeat 4294967296, 4294967296
