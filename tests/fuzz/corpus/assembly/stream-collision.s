; gather (func 3) in cycle 0 and read (func 2) in cycle 1 both put a vector on s0e at w0 in cycle 3.
.queue mem.w0
    gather s0e, s2e
    read 0, s0e
.queue mem.w3
    read 0, s2e
.queue mem.w2
    read 0, s3e
