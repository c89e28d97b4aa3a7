.tensor a int8 1048576 w0:0 fill=const:1
.queue mem.w0
    read 0, s0e
