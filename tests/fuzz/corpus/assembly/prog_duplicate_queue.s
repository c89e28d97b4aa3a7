.queue mem.w0
.queue mem.w0
