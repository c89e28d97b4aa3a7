.queue mxm.w1
    lw.int8 s0w, 16
