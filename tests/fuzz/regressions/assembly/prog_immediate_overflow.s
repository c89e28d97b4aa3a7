.queue vxm.alu0
    add.fp16 s0e, s2e, #1e10
