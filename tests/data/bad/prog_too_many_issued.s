.queue mem.w0
    read 0, s0e
    repeat 2000000000, 1
