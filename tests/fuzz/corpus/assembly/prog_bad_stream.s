.queue mem.w0
    read 0, x9
