.queue mem.w0
    read 0, s0e
    repeat 1
