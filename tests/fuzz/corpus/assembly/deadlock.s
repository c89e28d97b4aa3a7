; A sync that no notify releases.
.tensor a int8 1 w1:0
.queue mem.w1
    sync
    read 0, s0e
