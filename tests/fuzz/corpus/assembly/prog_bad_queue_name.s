.queue memory.w0
