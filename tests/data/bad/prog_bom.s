.queue mem.w0
