; The write samples s0e in cycle 2, one cycle before the word from w1 arrives (2 + 1 hop = 3).
.tensor src int8 1 w1:0 fill=const:1
.queue mem.w1
    read 0, s0e
.queue mem.w0
    nop 2
    write 0, s0e
