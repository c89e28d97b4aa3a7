.queue mem.w0
    read 9000, s0e
