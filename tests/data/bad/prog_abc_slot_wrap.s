.queue mxm.w1
    abc.int8 s0e, 4294967296
