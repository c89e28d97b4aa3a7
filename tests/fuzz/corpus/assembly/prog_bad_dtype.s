.queue vxm.alu0
    add.int4 s0e, s1e, s2e
