.queue vxm.alu0
    add.int8 s0e, s1e, #1000
