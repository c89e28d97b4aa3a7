.tensor a int8 4 w0:0
.tensor b int8 1 w0:2
.queue mem.w0
    nop 1
