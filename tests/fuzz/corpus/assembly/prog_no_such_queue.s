.queue mem.w44
    read 0, s0e
