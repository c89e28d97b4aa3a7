; Two fp16 abcs 3 cycles apart: the plane takes one every 4 cycles.
.queue mxm.w0
    iw
.queue mxm.w1
    nop 20
    abc.fp16 s16w
    nop 2
    abc.fp16 s16w
