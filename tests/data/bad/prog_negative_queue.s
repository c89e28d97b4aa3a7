.queue mem.w-1
    read 0, s0e
