; scatter in cycle 0 commits in 0 + 2, write in cycle 1 commits in 1 + 1: two SRAM writes in cycle 2.
.queue mem.w0
    scatter s0e, s2e
    write 9, s4e
