.tensor a int8 1 w0:0 fill=random:-1
.queue mem.w0
    read 0, s0e
