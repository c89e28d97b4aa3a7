.queue mem.w0
    read 0, s-1e
