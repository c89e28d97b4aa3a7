.queue mem.w0
    read 0
