.queue mem.w0
    reed 0, s0e
