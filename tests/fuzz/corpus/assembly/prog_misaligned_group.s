.queue vxm.alu0
    add.fp32 s1e, s4e, s8e
