.queue mxm.w0
    iw
