.queue c2c.0
    deskew 0
