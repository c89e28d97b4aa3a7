.queue mem.w0
    repeat 3, 1
