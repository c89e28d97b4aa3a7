; iw in cycle 10 installs in 30; the abc in cycle 29 is one cycle early.
.queue mxm.w0
    nop 10
    iw
.queue mxm.w1
    nop 29
    abc.int8 s16w
