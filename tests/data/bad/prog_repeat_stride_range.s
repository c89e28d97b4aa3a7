.queue mem.w0
    read 0, s0e
    repeat 2, 1, 4294967297
