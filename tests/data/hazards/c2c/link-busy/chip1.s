; link-busy, chip 1: receives both vectors when they arrive: the first in cycle
; 69 + 216 = 285, the second (serialised 69..91) in cycle 91 + 216 = 307.
.queue c2c.0
    nop 285
    receive 0, s0e
    nop 21
    receive 0, s0e
