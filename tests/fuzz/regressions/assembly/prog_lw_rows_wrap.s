.queue mxm.w0
    lw.int8 s0e, 4294967297
